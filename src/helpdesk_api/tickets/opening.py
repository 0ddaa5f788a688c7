"""Writing a new ticket and its first comment, once the writer's right to do so is settled.

The API checks a principal's rights and then opens the ticket here; a channel (an e-mail
arriving) opens one here directly, as the customer who wrote, with the mailbox's routing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.actor import Actor
from helpdesk_api.core.errors import Conflict
from helpdesk_api.models import (
    Channel,
    Priority,
    PriorityRank,
    StatusCategory,
    Ticket,
    TicketComment,
    TicketStatus,
    User,
    Via,
)
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.comments import NewComment, add_comment
from helpdesk_api.tickets.custom_values import note_initial
from helpdesk_api.tickets.pipeline import commit_change
from helpdesk_api.tickets.products import auto_match
from helpdesk_api.tickets.tagging import adjust_tag_counts


@dataclass(frozen=True)
class TicketDraft:
    subject: str
    requester: User
    submitter_id: int
    status: TicketStatus
    first_comment: NewComment
    channel: Channel = Channel.api
    group_id: int | None = None
    assignee_id: int | None = None
    priority: str = Priority.normal
    impact: str | None = None
    urgency: str | None = None
    type: str | None = None
    due_at: datetime | None = None
    tags: Sequence[str] = ()
    external_id: str | None = None
    required_skills: Sequence[str] = ()
    locale: str | None = None
    email_channel_id: int | None = None
    # Checked by the writer (``products.resolve``); when neither is given, intake matches them.
    product_id: int | None = None
    asset_id: int | None = None
    # Validated by the writer (``custom_values.validated``).
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenedTicket:
    ticket: Ticket
    first_comment: TicketComment


_NOTED_ON_CREATE = (
    "subject", "requester_id", "assignee_id", "group_id", "priority", "type", "channel",
    "tags", "required_skills", "external_id", "locale", "product_id", "asset_id",
)  # fmt: skip


async def open_ticket(
    session: AsyncSession, draft: TicketDraft, *, actor: Actor, author: Actor, now: datetime
) -> OpenedTicket:
    """Insert the ticket, its first comment (by ``author``) and run the change pipeline."""
    first = draft.first_comment
    ticket = Ticket(
        subject=draft.subject,
        requester_id=draft.requester.id,
        submitter_id=draft.submitter_id,
        assignee_id=draft.assignee_id,
        group_id=draft.group_id,
        organization_id=draft.requester.organization_id,
        status_id=draft.status.id,
        status_category=draft.status.category,
        priority=draft.priority,
        priority_rank=PriorityRank[draft.priority].value,
        impact=draft.impact,
        urgency=draft.urgency,
        type=draft.type,
        due_at=draft.due_at,
        channel=draft.channel,
        tags=list(draft.tags),
        required_skills=sorted(set(draft.required_skills)),
        external_id=draft.external_id,
        locale=draft.locale,
        email_channel_id=draft.email_channel_id,
        product_id=draft.product_id,
        asset_id=draft.asset_id,
        custom_fields=dict(draft.custom_fields),
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        solved_at=now if draft.status.category == StatusCategory.solved else None,
        comment_count=1,
        last_public_comment_at=now if first.public else None,
    )
    session.add(ticket)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("external_id was taken by a concurrent request.") from exc
    await adjust_tag_counts(session, ticket.tags, ())

    changes = ChangeSet()
    for name in _NOTED_ON_CREATE:
        value = getattr(ticket, name)
        if value not in (None, []):
            changes.note(name, None, value)
    note_initial(ticket, changes)
    changes.note("status", None, {"id": draft.status.id, "category": draft.status.category})
    # The first comment is the request itself: it does not count as an agent's reply.
    comment = await add_comment(
        session,
        ticket,
        replace(first, via=first.via or Via(draft.channel)),
        actor=author,
        changes=changes,
        now=now,
        is_first_comment=True,
    )
    await commit_change(session, ticket, changes, actor=actor, now=now, created=True)
    if draft.product_id is None and draft.asset_id is None:
        await auto_match(session, ticket, f"{ticket.subject}\n{comment.body}", now=now)
    return OpenedTicket(ticket, comment)
