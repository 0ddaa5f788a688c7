"""Merging tickets into one. Never commits: the request path does.

Every ticket involved is locked in ascending id order before anything is read, so two
concurrent merges touching the same tickets run one after the other and never deadlock; the
second then sees the first one's result (a closed or merged ticket) and is refused.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import visible_tickets
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput, NotFound
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.merging.schemas import MergeRequest
from helpdesk_api.models import StatusCategory, Ticket, TicketCc, TicketComment, Via
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets import (
    ChangeSet,
    NewComment,
    add_ccs,
    add_comment,
    adjust_tag_counts,
    commit_change,
    copy_history,
    set_status,
)


@dataclass(frozen=True)
class MergeOutcome:
    target: Ticket
    sources: list[Ticket]
    copied: list[TicketComment]


def _refs(ids: Sequence[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


async def _lock(
    session: AsyncSession, principal: Principal, target_id: int, source_ids: Sequence[int]
) -> tuple[Ticket, list[Ticket]]:
    for index, source_id in enumerate(source_ids):
        if source_id == target_id:
            raise InvalidInput(
                f"Ticket {target_id} cannot be merged into itself.",
                loc=("body", "source_ids", index),
            )
    ids = sorted({target_id, *source_ids})
    rows = await session.scalars(
        visible_tickets(principal)
        .where(Ticket.id.in_(ids))
        .order_by(Ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = {t.id: t for t in rows}
    target = found.get(target_id)
    if target is None:
        raise NotFound(f"Ticket {target_id} does not exist.")
    for index, source_id in enumerate(source_ids):
        if source_id not in found:
            raise InvalidInput(
                f"Ticket {source_id} does not exist.", loc=("body", "source_ids", index)
            )
    if target.merged_into_id is not None:
        raise Conflict(f"Ticket {target_id} was merged into ticket {target.merged_into_id}.")
    if target.status_category == StatusCategory.closed:
        raise Conflict(f"Ticket {target_id} is closed: nothing can be merged into it.")
    sources = [found[i] for i in source_ids]
    for source in sources:
        if source.merged_into_id is not None:
            raise Conflict(
                f"Ticket {source.id} was already merged into ticket {source.merged_into_id}."
            )
        if source.status_category == StatusCategory.closed:
            raise Conflict(f"Ticket {source.id} is closed and cannot be merged.")
    return target, sources


async def _copy_conversations(
    session: AsyncSession, target: Ticket, sources: Sequence[Ticket]
) -> list[TicketComment]:
    comments = list(
        await session.scalars(
            select(TicketComment)
            .where(TicketComment.ticket_id.in_([s.id for s in sources]))
            .order_by(TicketComment.created_at, TicketComment.id)
        )
    )
    copied = await copy_history(session, comments, target, via=Via.merge)
    target.comment_count += len(copied)
    latest_public = max((c.created_at for c in copied if c.is_public), default=None)
    if latest_public is not None and (
        target.last_public_comment_at is None or latest_public > target.last_public_comment_at
    ):
        target.last_public_comment_at = latest_public
    return copied


async def _copy_people(
    session: AsyncSession, principal: Principal, target: Ticket, sources: Sequence[Ticket]
) -> list[dict[str, object]]:
    """Requesters of the sources, and whoever was copied on them, are copied on the target."""
    source_ids = [s.id for s in sources]
    copied_on_sources = await session.scalars(
        select(TicketCc.user_id).where(TicketCc.ticket_id.in_(source_ids))
    )
    people = {s.requester_id for s in sources} | set(copied_on_sources)
    people.discard(target.requester_id)
    return await add_ccs(session, target, sorted(people), created_by=principal.user_id)


async def _unite_tags(
    session: AsyncSession, target: Ticket, sources: Sequence[Ticket], changes: ChangeSet
) -> None:
    tags = list(target.tags)
    for source in sources:
        tags.extend(t for t in source.tags if t not in tags)
    added = set(tags) - set(target.tags)
    if changes.set(target, "tags", tags):
        await adjust_tag_counts(session, added, ())


async def _commit(
    session: AsyncSession, actor: Actor, ticket: Ticket, changes: ChangeSet, now: datetime
) -> None:
    ticket.updated_at = now
    await session.flush()
    await commit_change(session, ticket, changes, actor=actor, now=now)


async def merge_tickets(
    session: AsyncSession,
    principal: Principal,
    target_id: int,
    data: MergeRequest,
    *,
    now: datetime,
) -> MergeOutcome:
    target, sources = await _lock(session, principal, target_id, data.source_ids)
    source_ids = [s.id for s in sources]
    actor = Actor.of(principal, Via.merge)

    changes = ChangeSet()
    copied = await _copy_conversations(session, target, sources)
    changes.note("merged_from", None, source_ids)
    if copied:
        changes.note("copied_comments", None, [c.id for c in copied])
    ccs = await _copy_people(session, principal, target, sources)
    if ccs:
        changes.note("ccs", None, ccs)
    await _unite_tags(session, target, sources, changes)
    target_text = data.target_comment or f"Merged {_refs(source_ids)} into this ticket."
    note = NewComment(body=target_text, public=data.public)
    await add_comment(session, target, note, actor=actor, changes=changes, now=now)
    await _commit(session, actor, target, changes, now)

    closed = await default_status(session, StatusCategory.closed)
    source_text = data.source_comment or f"This ticket was merged into #{target.id}."
    for source in sources:
        source_changes = ChangeSet()
        note = NewComment(body=source_text, public=False)
        await add_comment(session, source, note, actor=actor, changes=source_changes, now=now)
        set_status(source, closed, source_changes, now)
        source_changes.set(source, "merged_into_id", target.id)
        await _commit(session, actor, source, source_changes, now)

    await record_event(
        session,
        EventType.ticket_merged,
        actor_id=principal.user_id,
        ticket_id=target.id,
        data={
            "target_id": target.id,
            "source_ids": source_ids,
            "copied_comment_ids": [c.id for c in copied],
            "ccs_added": ccs,
        },
    )
    return MergeOutcome(target=target, sources=sources, copied=copied)
