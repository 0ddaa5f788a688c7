from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from helpdesk_api.core.auth import Admin, Agent, Authenticated, Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import Ids, ResourceId, parse_ids
from helpdesk_api.models import Role
from helpdesk_api.users import (
    anonymise,
    audits,
    editing,
    identity_changes,
    merging,
    search,
    service,
    tokens,
    upsert,
)
from helpdesk_api.users.dependencies import UserId, VisibleUser
from helpdesk_api.users.schemas import (
    IdentityCreate,
    IdentityRead,
    TokenCreate,
    TokenCreated,
    TokenPage,
    UserCreate,
    UserMergeRequest,
    UserPage,
    UserRead,
    UserUpdate,
    UserUpsert,
    UserView,
)

router = APIRouter(prefix="/v1/users", tags=["users"], route_class=TransactionalRoute)


@router.get("")
async def list_users(
    session: DB,
    principal: Staff,
    role: Role | None = None,
    is_active: bool | None = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="A few letters or a misspelling of a name, or of any identity value "
            "(e-mail, phone, handle, …): prefix and fuzzy matches, best first.",
        ),
    ] = None,
    identity: Annotated[
        str | None,
        Query(
            max_length=400,
            description="One identity exactly, as `kind:value` (`email:ann@example.com`, "
            "`phone:+39 333 1234567`), normalised as stored.",
        ),
    ] = None,
    external_id: Annotated[str | None, Query(max_length=255)] = None,
    ids: Ids = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> UserPage:
    filters = search.UserFilters(
        role=role,
        is_active=is_active,
        q=q,
        identity=identity,
        external_id=external_id,
        ids=parse_ids(ids),
    )
    users, next_cursor = await search.list_users(session, filters, limit=limit, cursor=cursor)
    return UserPage(data=[service.to_read(u) for u in users], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_user(
    data: UserCreate, session: DB, principal: Agent, response: Response
) -> UserRead:
    """Admins create any user; agents create customers."""
    editing.check_may_create(principal, data.role)
    user = await service.create_user(session, principal, data)
    service.USERS.set_created(response, user)
    return service.to_read(user)


@router.put("/upsert", responses={201: {"model": UserRead, "description": "Created"}})
async def upsert_user(
    data: UserUpsert, session: DB, principal: Agent, response: Response
) -> UserRead:
    """Create or update a customer by `external_id`, else `email` (`200` updated, `201`
    created). `409` when the two name different users, an identity belongs to someone
    else, the match is staff, or it has another external id; nothing is written then."""
    user, created = await upsert.upsert_customer(session, principal, data)
    if created:
        response.status_code = status.HTTP_201_CREATED
        service.USERS.set_created(response, user)
    else:
        service.USERS.set_etag(response, user)
    return service.to_read(user)


@router.get("/{user_id}")
async def get_user(user: VisibleUser, principal: Authenticated, response: Response) -> UserView:
    """Staff see the whole profile; customers (only themselves) see no staff-only fields."""
    service.USERS.set_etag(response, user)
    return service.to_read(user) if principal.is_staff else service.to_me(user)


@router.patch("/{user_id}")
async def update_user(
    user_id: UserId,
    data: UserUpdate,
    session: DB,
    principal: Agent,
    response: Response,
    if_match: IfMatch = None,
) -> UserRead:
    """Admins change anyone; agents change customers, but not their role or password."""
    user = await service.USERS.get_for_write(session, user_id, if_match)
    editing.check_may_edit(principal, user, data.model_fields_set)
    updated = await service.update_user(session, principal, user, data)
    service.USERS.set_etag(response, updated)
    return service.to_read(updated)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def deactivate_user(
    user_id: UserId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    """Deactivates the user and revokes every token; history that names them is kept."""
    user = await service.USERS.get_for_write(session, user_id, if_match)
    await service.update_user(session, principal, user, UserUpdate(is_active=False))


@router.post("/{user_id}/tokens", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_user_token(
    user: VisibleUser,
    session: DB,
    principal: Authenticated,
    request: Request,
    now: Now,
    data: TokenCreate | None = None,
) -> TokenCreated:
    """Create a token; `expires_at` is capped at the calling token's own expiry."""
    max_lifetime = timedelta(days=request.app.state.settings.token_max_lifetime_days)
    row, token = await tokens.create_token(
        session, principal, user, data or TokenCreate(), now=now, max_lifetime=max_lifetime
    )
    return TokenCreated(
        id=row.id,
        name=row.name,
        token=token,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        acts_for_requesters=row.acts_for_requesters,
    )


@router.get("/{user_id}/tokens")
async def list_user_tokens(
    user_id: UserId,
    session: DB,
    principal: Admin,
    now: Now,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TokenPage:
    """A user's live tokens (neither revoked nor expired); never a secret or its hash."""
    await service.get_user(session, user_id)
    return await tokens.list_tokens(session, user_id, now=now, limit=limit, cursor=cursor)


@router.delete("/{user_id}/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_user_token(
    user_id: UserId, token_id: ResourceId, session: DB, principal: Admin, now: Now
) -> None:
    """Revoke one token of the user; tokens created with it stay valid. A token of another
    user is `404`."""
    await service.get_user(session, user_id)
    await tokens.revoke_token(session, user_id, token_id, now=now)


@router.post("/{user_id}/anonymize")
async def anonymize_user(
    user_id: UserId, session: DB, principal: Admin, now: Now, if_match: IfMatch = None
) -> UserRead:
    """Forgets a customer (GDPR erasure), keeping their tickets: a neutral name; no
    identities, external id, notes, tags, organisation, password or tokens; their comments'
    mail headers and their rating comments removed; deactivated. Comment bodies stay.
    Staff are refused (`409`). Recorded in the user's audits; repeating it changes nothing."""
    user = await service.USERS.get_for_write(session, user_id, if_match)
    return service.to_read(await anonymise.anonymise_user(session, principal, user, now=now))


@router.post("/{user_id}/merge", dependencies=[Idempotent])
async def merge_user(
    user_id: UserId,
    data: UserMergeRequest,
    session: DB,
    principal: Agent,
    response: Response,
    now: Now,
    if_match: IfMatch = None,
) -> UserRead:
    """Folds the customer `source_id` into this one (admins and agents), in one transaction:
    its identities (the target's stay primary), tickets (requester; each audited, no
    notifications or rules), CCs, comments and uploads, and its organisation and
    external id when this user has none. The source is deactivated and its tokens stop
    working. `422` merging a user into itself or an unknown source; `409` when either is
    staff or inactive (anonymised, already merged), or both have an external id. Recorded
    as `user.merged` and in both users' audits. If-Match applies to this (the target) user."""
    if if_match is not None:
        service.USERS.check_if_match(if_match, await service.get_user(session, user_id))
    outcome = await merging.merge_users(
        session, principal, target_id=user_id, source_id=data.source_id, now=now
    )
    service.USERS.set_etag(response, outcome.user)
    return service.to_read(outcome.user)


@router.get("/{user_id}/audits")
async def list_user_audits(
    user_id: UserId, session: DB, principal: Staff, limit: Limit = 50, cursor: Cursor = None
) -> audits.UserAuditPage:
    """Every change to the user, newest first: who (`actor_id`, `via`) and what (`changes`,
    `[{field, from, to}]`; notes and passwords say only that they changed)."""
    await service.get_user(session, user_id)
    return await audits.list_user_audits(session, user_id, limit=limit, cursor=cursor)


@router.get("/{user_id}/identities")
async def list_identities(user: VisibleUser) -> list[IdentityRead]:
    return [IdentityRead.model_validate(i) for i in user.identities]


@router.post(
    "/{user_id}/identities", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent]
)
async def add_identity(
    user_id: UserId, data: IdentityCreate, session: DB, principal: Agent
) -> IdentityRead:
    """Admins, and agents on customers."""
    user = await service.get_user(session, user_id, for_update=True)
    editing.check_may_edit(principal, user)
    identity = await identity_changes.add_identity(session, principal, user, data.kind, data.value)
    await session.refresh(identity, attribute_names=["created_at"])
    return IdentityRead.model_validate(identity)


@router.delete("/{user_id}/identities/{identity_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_identity(
    user_id: UserId,
    identity_id: ResourceId,
    session: DB,
    principal: Agent,
) -> None:
    """Admins, and agents on customers."""
    user = await service.get_user(session, user_id, for_update=True)
    editing.check_may_edit(principal, user)
    await identity_changes.remove_identity(session, principal, user, identity_id)
