"""Contexts from the database: what the code that sends a notification calls.

``build_context`` reads what the context names (status labels, the requester's and the
group's names, the mailbox) from the rows it is given; a customer notice never carries a
private note (``ValueError``).
"""

from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.html import sanitize_html
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import (
    EmailChannel,
    Group,
    Priority,
    SlaMetric,
    SlaMetricStatus,
    StatusCategory,
    Ticket,
    TicketComment,
    TicketSlaMetric,
    TicketStatus,
    User,
)
from helpdesk_api.notifications.context import (
    CommentContext,
    NotificationContext,
    RecipientContext,
    SatisfactionContext,
    TicketContext,
)
from helpdesk_api.notifications.events import Audience, NotificationEvent
from helpdesk_api.notifications.locales import locale_chain
from helpdesk_api.statuses.service import statuses_by_id


def ticket_url(settings: Settings, ticket_id: int, audience: Audience) -> str | None:
    """The ticket in the customer portal or the agent workspace; None when unset."""
    pattern = (
        settings.notification_portal_url
        if audience is Audience.customer
        else settings.notification_agent_url
    )
    return pattern.replace("{id}", str(ticket_id)) if pattern else None


def recipient_locale(recipient: User, ticket: Ticket | None, audience: Audience) -> str:
    """The recipient's own locale; for a customer without one, the language their ticket
    was written in; else English. Canonical spelling (``pt-BR``)."""
    wanted = recipient.locale
    if wanted is None and ticket is not None and audience is Audience.customer:
        wanted = ticket.locale
    return locale_chain(wanted)[0]


def comment_html(comment: TicketComment) -> str:
    """The comment as sanitised HTML: its HTML body, or its text escaped into paragraphs."""
    if comment.html_body:
        return sanitize_html(comment.html_body)
    paragraphs = (escape(p).replace("\n", "<br>\n") for p in comment.body.split("\n\n"))
    return "\n".join(f"<p>{p}</p>" for p in paragraphs)


async def mailbox_name(session: AsyncSession, ticket: Ticket) -> str | None:
    """The display name of the mailbox the ticket's mail runs through (the first active one
    when the ticket has none of its own)."""
    if ticket.email_channel_id is not None:
        channel = await session.get(EmailChannel, ticket.email_channel_id)
    else:
        channel = await session.scalar(
            select(EmailChannel).where(EmailChannel.is_active).order_by(EmailChannel.id).limit(1)
        )
    if channel is None:
        return None
    return channel.display_name or channel.name


async def _name_of(session: AsyncSession, user_id: int | None, known: User) -> str | None:
    if user_id is None:
        return None
    if user_id == known.id:
        return known.name
    user = await session.get(User, user_id)
    return user.name if user is not None else None


@dataclass(frozen=True)
class DueTimes:
    first_reply: datetime | None
    resolution: datetime | None


async def due_times(session: AsyncSession, ticket_id: int) -> DueTimes:
    """When the running SLA clocks expect the first reply and the resolution (one query;
    only the notices that tell them ask)."""
    rows = await session.execute(
        select(TicketSlaMetric.metric, TicketSlaMetric.breach_at).where(
            TicketSlaMetric.ticket_id == ticket_id,
            TicketSlaMetric.metric.in_((SlaMetric.first_reply, SlaMetric.resolution)),
            TicketSlaMetric.status == SlaMetricStatus.active,
        )
    )
    found = {row.metric: row.breach_at for row in rows}
    return DueTimes(found.get(SlaMetric.first_reply), found.get(SlaMetric.resolution))


async def build_context(
    session: AsyncSession,
    settings: Settings,
    *,
    event: NotificationEvent,
    ticket: Ticket,
    recipient: User,
    comment: TicketComment | None = None,
    actor_name: str | None = None,
    previous_status: TicketStatus | None = None,
    locale: str | None = None,
    due: DueTimes | None = None,
    satisfaction: SatisfactionContext | None = None,
) -> NotificationContext:
    """The context of ``event`` about ``ticket`` for ``recipient``, in ``locale`` (default:
    ``recipient_locale``). Pass what the event tells (``NotificationEvent.description``):
    the comment, who acted, the status before."""
    audience = event.audience
    if comment is not None and audience is Audience.customer and not comment.is_public:
        raise ValueError(f"comment {comment.id} is a private note: it never goes to a customer")
    statuses = await statuses_by_id(session, [ticket.status_id])
    status = statuses[ticket.status_id]
    customer = audience is Audience.customer
    mailbox = await mailbox_name(session, ticket)
    group = await session.get(Group, ticket.group_id) if ticket.group_id is not None else None
    comment_context = None
    if comment is not None:
        author = await _name_of(session, comment.author_id, recipient)
        comment_context = CommentContext(
            body=comment.body,
            html=comment_html(comment),
            author_name=author or mailbox or "",
            created_at=comment.created_at,
        )
    previous = None
    if previous_status is not None:
        previous = previous_status.customer_label if customer else previous_status.agent_label
    return NotificationContext(
        ticket=TicketContext(
            id=ticket.id,
            subject=ticket.subject,
            status=status.customer_label if customer else status.agent_label,
            status_category=StatusCategory(ticket.status_category),
            priority=Priority(ticket.priority),
            requester_name=await _name_of(session, ticket.requester_id, recipient) or "",
            group_name=group.name if group is not None else None,
            url=ticket_url(settings, ticket.id, audience),
            created_at=ticket.created_at,
            first_reply_due_at=due.first_reply if due else None,
            resolution_due_at=due.resolution if due else None,
        ),
        recipient=RecipientContext(
            name=recipient.name,
            locale=locale_chain(locale)[0]
            if locale
            else recipient_locale(recipient, ticket, audience),
            time_zone=recipient.time_zone,
        ),
        comment=comment_context,
        actor_name=actor_name,
        mailbox_name=mailbox,
        previous_status=previous,
        satisfaction=satisfaction if customer else None,
    )
