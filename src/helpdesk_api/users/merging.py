"""Folding one customer into another: the same person reached us twice (e-mail, then Telegram).

The source's identities, tickets (as requester and submitter), CCs, comments, uploads and,
when the target has none, organisation and external id move to the target; the source is
deactivated and its tokens revoked, so whoever held them must use the target's. One
transaction; each ticket whose requester changes gets an audit row and a new version (its
ETag changes), but no event and no pipeline run: nothing about the conversation changed, so
no rule, notice or SLA clock has anything to react to. The merge is told once, as
``user.merged``, and in both users' audits (``user.updated``).

Identity values are unique per kind across users, so the two users never share one; what can
clash is which identity is primary (the target's stay primary) and the external id (two
different ones name two records elsewhere: refused, clear one first).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput, NotFound
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.resource import touch
from helpdesk_api.models import (
    Asset,
    Attachment,
    ChannelMessage,
    Role,
    Ticket,
    TicketAudit,
    TicketCc,
    TicketComment,
    User,
    UserIdentity,
)
from helpdesk_api.users import service
from helpdesk_api.users.tokens import revoke_tokens

SOURCE_LOC = ("body", "source_id")


@dataclass(frozen=True)
class MergeOutcome:
    user: User
    moved_identity_ids: list[int]
    ticket_ids: list[int]


def _check_mergeable(user: User, what: str) -> None:
    if user.role != Role.customer:
        raise Conflict(f"The {what} (user {user.id}) is staff: only customers are merged.")
    if not user.is_active:
        raise Conflict(
            f"The {what} (user {user.id}) is inactive, anonymised or already merged: "
            "reactivate it first."
        )


async def _lock_both(session: AsyncSession, target_id: int, source_id: int) -> tuple[User, User]:
    # Always in id order: two merges of the same pair in opposite directions cannot deadlock.
    locked: dict[int, User] = {}
    for user_id in sorted((target_id, source_id)):
        try:
            locked[user_id] = await service.get_user(session, user_id, for_update=True)
        except NotFound:
            if user_id == source_id:
                raise InvalidInput(
                    f"User {source_id} does not exist.", loc=SOURCE_LOC, type="unknown_user"
                ) from None
            raise
    return locked[target_id], locked[source_id]


async def merge_users(
    session: AsyncSession, principal: Principal, *, target_id: int, source_id: int, now: datetime
) -> MergeOutcome:
    if source_id == target_id:
        raise InvalidInput("A user cannot be merged into itself.", loc=SOURCE_LOC, type="self")
    target, source = await _lock_both(session, target_id, source_id)
    _check_mergeable(target, "target")
    _check_mergeable(source, "source")
    if source.external_id and target.external_id:
        raise Conflict(
            f"Both users have an external_id ({source.external_id!r}, {target.external_id!r}): "
            "they name two records in another system. Clear one first."
        )
    target_changes: list[dict[str, Any]] = [{"field": "merged_from", "from": None, "to": source.id}]

    identity_ids = await _move_identities(session, target, source)
    if identity_ids:
        target_changes.append({"field": "identities", "from": None, "to": identity_ids})
    ticket_ids = await _move_tickets(session, principal, target.id, source.id, now=now)
    await _move_ccs(session, target.id, source.id, ticket_ids)
    # What a channel recorded of the sender follows them (their identities moved above), and
    # so do the products they own: the moved tickets name those assets.
    for owned in (ChannelMessage, Asset):
        await session.execute(
            update(owned).where(owned.user_id == source.id).values(user_id=target.id)
        )

    external_id = source.external_id
    if external_id and not target.external_id:
        source.external_id = None
        await session.flush()  # the unique external_id is free before the target takes it
        target.external_id = external_id
        target_changes.append({"field": "external_id", "from": None, "to": external_id})
    if target.organization_id is None and source.organization_id is not None:
        target.organization_id = source.organization_id
        target_changes.append(
            {"field": "organization_id", "from": None, "to": source.organization_id}
        )

    await revoke_tokens(session, source.id, now=now)
    source.is_active = False
    touch(source)
    touch(target)
    await session.flush()
    session.expire(target, ["identities"])
    session.expire(source, ["identities"])
    await service.USERS.record_updated(
        session,
        actor_id=principal.user_id,
        resource_id=source.id,
        changes=[
            {"field": "merged_into", "from": None, "to": target.id},
            {"field": "is_active", "from": True, "to": False},
        ],
    )
    await service.USERS.record_updated(
        session, actor_id=principal.user_id, resource_id=target.id, changes=target_changes
    )
    await record_event(
        session,
        EventType.user_merged,
        actor_id=principal.user_id,
        data={
            "user_id": target.id,
            "source_id": source.id,
            "identity_ids": identity_ids,
            "ticket_ids": ticket_ids,
        },
    )
    return MergeOutcome(await service.get_user(session, target.id), identity_ids, ticket_ids)


async def _move_identities(session: AsyncSession, target: User, source: User) -> list[int]:
    kinds_with_primary = {i.kind for i in target.identities if i.is_primary}
    moved: list[int] = []
    demoted: list[int] = []
    for identity in sorted(source.identities, key=lambda i: i.id):
        moved.append(identity.id)
        # The target's own primaries stay primary; a kind it lacked keeps the source's choice.
        if identity.is_primary and identity.kind in kinds_with_primary:
            demoted.append(identity.id)
    if demoted:
        await session.execute(
            update(UserIdentity).where(UserIdentity.id.in_(demoted)).values(is_primary=False)
        )
    if moved:
        await session.execute(
            update(UserIdentity).where(UserIdentity.id.in_(moved)).values(user_id=target.id)
        )
    return moved


async def _move_tickets(
    session: AsyncSession, principal: Principal, target_id: int, source_id: int, *, now: datetime
) -> list[int]:
    # Comments and uploads of the source are found through its tickets and CCs (indexed),
    # never by scanning every comment for an author.
    own = select(Ticket.id).where(Ticket.requester_id == source_id)
    copied = select(TicketCc.ticket_id).where(TicketCc.user_id == source_id)
    theirs = or_(TicketComment.ticket_id.in_(own), TicketComment.ticket_id.in_(copied))
    await session.execute(
        update(TicketComment)
        .where(theirs, TicketComment.author_id == source_id)
        .values(author_id=target_id)
    )
    await session.execute(
        update(Attachment)
        .where(
            or_(Attachment.ticket_id.in_(own), Attachment.ticket_id.in_(copied)),
            Attachment.uploader_id == source_id,
        )
        .values(uploader_id=target_id)
    )
    await session.execute(
        update(Ticket)
        .where(Ticket.submitter_id == source_id, Ticket.requester_id == source_id)
        .values(submitter_id=target_id)
    )
    ticket_ids = list(
        (
            await session.scalars(
                update(Ticket)
                .where(Ticket.requester_id == source_id)
                .values(requester_id=target_id, version=Ticket.version + 1, updated_at=now)
                .returning(Ticket.id)
            )
        ).all()
    )
    ticket_ids.sort()
    if ticket_ids:
        change = [{"field": "requester_id", "from": source_id, "to": target_id}]
        await session.execute(
            insert(TicketAudit),
            [
                {"ticket_id": ticket_id, "actor_id": principal.user_id, "via": "api",
                 "changes": change, "created_at": now}
                for ticket_id in ticket_ids
            ],
        )  # fmt: skip
    return ticket_ids


async def _move_ccs(
    session: AsyncSession, target_id: int, source_id: int, moved_ticket_ids: list[int]
) -> None:
    # The target copied on a ticket it now requests: the requester needs no CC.
    if moved_ticket_ids:
        await session.execute(
            delete(TicketCc).where(
                TicketCc.user_id == target_id, TicketCc.ticket_id.in_(moved_ticket_ids)
            )
        )
    # Where the target is already copied, or is the requester, the source's CC would repeat it.
    already = select(TicketCc.ticket_id).where(TicketCc.user_id == target_id)
    requested = select(Ticket.id).where(Ticket.requester_id == target_id)
    await session.execute(
        delete(TicketCc).where(
            TicketCc.user_id == source_id,
            or_(TicketCc.ticket_id.in_(already), TicketCc.ticket_id.in_(requested)),
        )
    )
    await session.execute(
        update(TicketCc).where(TicketCc.user_id == source_id).values(user_id=target_id)
    )
