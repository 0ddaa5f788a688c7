"""Finding users: by a few letters or a misspelling of a name or any identity value
(``q``), by one identity exactly (``identity=kind:value``), or by ``external_id``.

``q`` matches a user when their lower-cased name or one of their identity values starts
with it (the ``text_pattern_ops`` indexes), or is like it (pg_trgm ``%``, the GIN trigram
indexes). Each branch is one index scan capped at ``CANDIDATES_PER_BRANCH`` rows (the
fuzzy ones keep their most similar), and only those few hundred candidates are ranked, so a
search stays fast at millions of users. Matches come best first: a prefix scores highest,
then by trigram similarity; ties by id.
"""

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Integer, Select, func, literal, literal_column, select, union_all
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
    ids: tuple[int, ...] = ()


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


# Each branch of ``q`` reads at most this many rows, in its index's order, before anything
# is ranked: a common name matches tens of thousands of users at 1M, and ranking them all
# cost a full read of ``users`` (282 ms at 100k). Matches beyond the cap are not listed;
# the agent types more.
CANDIDATES_PER_BRANCH = 200


def _candidates(text: str, phone: str, *, fuzzy: bool = True) -> Any:
    """(id, score) of the users ``q`` finds, at most a few hundred: 1000 for a prefix of the
    name or of an identity value, else the best trigram similarity (0…999, an integer so
    the cursor repeats it exactly; below 1000 so every prefix match ranks first)."""
    name = func.lower(User.name)
    prefix = _escape_like(text) + "%"
    exact = literal(1000, Integer)
    # USING ~<~ is the text_pattern_ops index's own order: the scan stops after the cap,
    # and the same rows come back on every page.
    branches: list[Any] = [
        select(User.id.label("id"), exact.label("score"))
        .where(name.like(prefix))
        .order_by(literal_column("lower(users.name) USING ~<~"), User.id)
        .limit(CANDIDATES_PER_BRANCH),
    ]
    for value_prefix in dict.fromkeys(v for v in (text, phone) if v):
        branches.append(
            select(UserIdentity.user_id, exact)
            .where(UserIdentity.value.like(_escape_like(value_prefix) + "%"))
            .order_by(literal_column("user_identities.value USING ~<~"), UserIdentity.id)
            .limit(CANDIDATES_PER_BRANCH)
        )
    for column, key in ((name, User.id), (UserIdentity.value, UserIdentity.user_id)):
        if not fuzzy:
            break
        similarity = func.similarity(column, text)
        score = func.least(func.cast(func.round(similarity * 1000), Integer), 999)
        branches.append(
            select(key, score)
            .where(column.op("%")(text))
            .order_by(similarity.desc(), key)
            .limit(CANDIDATES_PER_BRANCH)
        )
    found = union_all(*branches).subquery()
    return (
        select(found.c.id, func.max(found.c.score).label("score"))
        .group_by(found.c.id)
        .subquery("candidates")
    )


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
    if filters.ids:
        statement = statement.where(User.id.in_(filters.ids))
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
    # Prefix matches rank before any likeness: while they fill the page, the trigram
    # branches (a GIN recheck of every row sharing a trigram, the costly part) are not run.
    rows, next_cursor = await _ranked_page(
        session, statement, _candidates(text, phone, fuzzy=False), limit, cursor
    )
    if next_cursor is None:
        rows, next_cursor = await _ranked_page(
            session, statement, _candidates(text, phone), limit, cursor
        )
    return [row.User for row in rows], next_cursor


async def _ranked_page(
    session: AsyncSession, statement: Select[Any], candidates: Any, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    score = candidates.c.score
    ranked = cast(
        "Select[Any]",
        statement.join(candidates, candidates.c.id == User.id).add_columns(score),
    )
    return await paginate(
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
