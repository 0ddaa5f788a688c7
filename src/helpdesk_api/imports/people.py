"""The people of imported history: found by external id or e-mail, created when unknown.

One batch names the same people many times; each is looked up once per batch.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.imports.schemas import ImportPerson
from helpdesk_api.models import IdentityKind, Role, User
from helpdesk_api.users.identities import normalize_identity
from helpdesk_api.users.schemas import UserCreate
from helpdesk_api.users.service import create_user, find_user_by_identity

Loc = tuple[str | int, ...]


class People:
    def __init__(self, session: AsyncSession, principal: Principal | None) -> None:
        self.session = session
        self.principal = principal
        self.by_external_id: dict[str, User] = {}
        self.by_email: dict[str, User] = {}

    async def resolve(self, person: ImportPerson, loc: Loc) -> User:
        if person.external_id is not None:
            user = self.by_external_id.get(person.external_id) or await self.session.scalar(
                select(User).where(User.external_id == person.external_id)
            )
            if user is not None:
                self.by_external_id[person.external_id] = user
                return user
        if person.email is None:
            if person.external_id is None:
                raise InvalidInput(
                    "Name the person by email or external_id.", loc=loc, type="missing"
                )
            raise InvalidInput(
                f"No user has the external_id {person.external_id!r}; give an email to "
                "create them.",
                loc=(*loc, "email"),
                type="missing",
            )
        email = normalize_identity(IdentityKind.email, person.email, loc=(*loc, "email"))
        user = self.by_email.get(email) or await find_user_by_identity(
            self.session, IdentityKind.email, email
        )
        if user is None:
            user = await self._create(person, email, loc)
        self.by_email[email] = user
        if person.external_id is not None and user.external_id == person.external_id:
            self.by_external_id[person.external_id] = user
        return user

    async def _create(self, person: ImportPerson, email: str, loc: Loc) -> User:
        data = UserCreate(
            name=person.name or email.split("@", 1)[0],
            email=email,
            role=Role.customer,
            external_id=person.external_id,
        )
        try:
            return await create_user(self.session, self.principal, data, via="import")
        except InvalidInput as exc:
            raise InvalidInput(exc.detail, loc=loc, type="invalid_person") from None
