"""Finding users: by a few letters or a misspelling of a name or any identity value
(``q``), by one identity exactly (``identity=kind:value``), or by ``external_id``.

``q`` matches a user when their lower-cased name or one of their identity values starts
with it (the ``text_pattern_ops`` indexes), or is like it (pg_trgm ``%``, the GIN trigram
indexes): each branch is one index scan, so it stays fast at millions of users. Matches come
best first: a prefix scores highest, then by trigram similarity; ties by id.
"""

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Integer, Select, func, literal, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.models import IdentityKind, Role, User, UserIdentity
from helpdesk_api.users.identities import normalize_identity

_IDENTITY_LOC = ("query", "identity")


@dataclass(frozen=True)
class UserFilters:
    role: Role | None = None
    is_active: bool | None = None
    q: str | None = None
    identity: str | None = None
    external_id: str | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_terms(q: str) -> tuple[str, str]:
    """The lower-cased text, and the same as a phone number would be stored (no spaces,
    dashes or brackets), so "+39 333 12" finds "+3933312…"."""
    text = " ".join(q.lower().split())
    phone = "".join(ch for ch in text if ch not in " ().-/")
    return text, phone


def _identity_filter(value: str) -> tuple[IdentityKind, str]:
    kind_text, sep, raw = value.partition(":")
    if not sep or not raw:
        raise InvalidInput(
            "identity is kind:value, such as email:ann@example.com.", loc=_IDENTITY_LOC
        )
    try:
        kind = IdentityKind(kind_text.strip().lower())
    except ValueError as exc:
        kinds = ", ".join(k.value for k in IdentityKind)
        raise InvalidInput(
            f"Unknown identity kind {kind_text!r}; one of {kinds}.", loc=_IDENTITY_LOC
        ) from exc
    return kind, normalize_identity(kind, raw, loc=_IDENTITY_LOC)


def _matching_ids(text: str, phone: str) -> Any:
    prefix = _escape_like(text) + "%"
    phone_prefix = _escape_like(phone) + "%"
    name = func.lower(User.name)
    return union(
        select(User.id).where(name.like(prefix)),
        select(User.id).where(name.op("%")(text)),
        select(UserIdentity.user_id).where(UserIdentity.value.like(prefix)),
        select(UserIdentity.user_id).where(UserIdentity.value.like(phone_prefix)),
        select(UserIdentity.user_id).where(UserIdentity.value.op("%")(text)),
    ).subquery()


def _score(text: str, phone: str) -> Any:
    """0…1000: 1000 for a prefix of the name or an identity, else the best similarity."""
    name = func.lower(User.name)
    identity_best = (
        select(func.max(func.similarity(UserIdentity.value, text)))
        .where(UserIdentity.user_id == User.id)
        .scalar_subquery()
    )
    identity_prefix = (
        select(UserIdentity.id)
        .where(
            UserIdentity.user_id == User.id,
            UserIdentity.value.like(_escape_like(text) + "%")
            | UserIdentity.value.like(_escape_like(phone) + "%"),
        )
        .exists()
    )
    prefix = name.like(_escape_like(text) + "%") | identity_prefix
    similarity = func.greatest(func.similarity(name, text), func.coalesce(identity_best, 0))
    best = func.greatest(func.cast(prefix, Integer) * literal(1.0), similarity)
    # An integer, so the cursor repeats it exactly.
    return func.cast(func.round(best * 1000), Integer).label("score")


async def list_users(
    session: AsyncSession, filters: UserFilters, *, limit: int, cursor: str | None
) -> tuple[list[User], str | None]:
    statement = select(User).options(selectinload(User.identities))
    if filters.role is not None:
        statement = statement.where(User.role == filters.role)
    if filters.is_active is not None:
        statement = statement.where(User.is_active.is_(filters.is_active))
    if filters.external_id is not None:
        statement = statement.where(User.external_id == filters.external_id)
    if filters.identity is not None:
        kind, value = _identity_filter(filters.identity)
        owner = select(UserIdentity.user_id).where(
            UserIdentity.kind == kind, UserIdentity.value == value
        )
        statement = statement.where(User.id.in_(owner))
    if not filters.q:
        return await paginate(
            session, statement, keys=[SortKey(User.id, lambda u: u.id)], limit=limit, cursor=cursor
        )
    text, phone = _search_terms(filters.q)
    matches = _matching_ids(text, phone)
    score = _score(text, phone)
    ranked = cast(
        "Select[Any]",
        statement.join(matches, matches.c.id == User.id).add_columns(score),
    )
    rows, next_cursor = await paginate(
        session,
        ranked,
        keys=[
            SortKey(score, lambda row: row.score, descending=True),
            SortKey(User.id, lambda row: row.User.id),
        ],
        limit=limit,
        cursor=cursor,
        ordering="q",
        scalars=False,
    )
    return [row.User for row in rows], next_cursor
