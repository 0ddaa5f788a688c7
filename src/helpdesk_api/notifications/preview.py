"""Previews: a notification rendered as it would be sent, about a sample or a real ticket,
with the saved wording or an unsaved draft."""

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import Ticket, TicketComment, User
from helpdesk_api.notifications.building import build_context
from helpdesk_api.notifications.context import NotificationContext, sample_context
from helpdesk_api.notifications.events import Audience, NotificationEvent
from helpdesk_api.notifications.locales import canonical_locale
from helpdesk_api.notifications.schemas import NotificationPreview, NotificationPreviewRequest
from helpdesk_api.notifications.service import problem_as_input_error
from helpdesk_api.notifications.templates import (
    TemplateOrigin,
    TemplateProblem,
    check_template,
    effective_template,
    render,
    render_template,
    subject_with_token,
)
from helpdesk_api.tickets import get_visible_ticket

_PARTS = ("subject", "text_body", "html_body")


async def _comment(
    session: AsyncSession, ticket: Ticket, *, public_only: bool, latest: bool
) -> TicketComment | None:
    statement = select(TicketComment).where(TicketComment.ticket_id == ticket.id)
    if public_only:
        statement = statement.where(TicketComment.is_public)
    order = TicketComment.id.desc() if latest else TicketComment.id.asc()
    comment: TicketComment | None = await session.scalar(statement.order_by(order).limit(1))
    return comment


async def _ticket_context(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    event: NotificationEvent,
    ticket: Ticket,
    locale: str,
) -> NotificationContext:
    """The ticket as ``event`` would tell it: to its requester (customer notices) or to its
    assignee, else the admin previewing (staff notices), about the comment the event names."""
    customer = event.audience is Audience.customer
    recipient_id = ticket.requester_id if customer else (ticket.assignee_id or principal.user_id)
    recipient = await session.get(User, recipient_id)
    assert recipient is not None  # a foreign key
    comment = None
    if event is not NotificationEvent.status_changed:
        comment = await _comment(
            session,
            ticket,
            public_only=customer,
            latest=event is NotificationEvent.public_reply,
        )
    told_by_principal = (NotificationEvent.status_changed, NotificationEvent.ticket_assigned)
    context = await build_context(
        session,
        settings,
        event=event,
        ticket=ticket,
        recipient=recipient,
        comment=comment,
        actor_name=principal.name if event in told_by_principal else None,
        locale=locale,
    )
    told_by_author = (NotificationEvent.public_reply, NotificationEvent.ticket_created)
    if event in told_by_author and context.comment is not None:
        context = context.model_copy(update={"actor_name": context.comment.author_name})
    return context


async def preview_template(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    event: NotificationEvent,
    locale: str,
    data: NotificationPreviewRequest,
) -> NotificationPreview:
    locale = canonical_locale(locale)
    if data.ticket_id is not None:
        ticket = await get_visible_ticket(session, principal, data.ticket_id)
        context = await _ticket_context(session, settings, principal, event, ticket, locale)
    else:
        context = sample_context(event, locale)
    draft = {name: getattr(data, name) for name in _PARTS if name in data.model_fields_set}
    if not draft:
        rendered = await render(session, event, locale, context)
        return NotificationPreview(
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            source=rendered.origin,
            source_locale=rendered.locale,
            ticket_id=data.ticket_id,
        )
    source = replace((await effective_template(session, event, locale)).source, **draft)
    try:
        check_template(event, locale, source)
        subject, text, html = render_template(source, context, locale=locale)
    except TemplateProblem as problem:
        problem_as_input_error(problem)
    return NotificationPreview(
        subject=subject_with_token(subject, event, context.ticket.id),
        text=text,
        html=html,
        source=TemplateOrigin.custom,
        source_locale=locale,
        ticket_id=data.ticket_id,
    )
