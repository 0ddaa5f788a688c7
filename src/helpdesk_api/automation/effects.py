"""What a rule does besides setting fields: copy someone, reply, notify, call a webhook.

All of it is written inside the change's transaction (a comment, an outbox row, a webhook
delivery row), so it happens if and only if the change commits; the worker sends it after.
Each effect returns None when done, or why it could not be done, which becomes the rule's
``last_error`` (the rest of the change still commits).
"""

import json
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.actions import AddNote, CallWebhook, Notify, PublicReply
from helpdesk_api.automation.wording import render_text, sample_for
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.settings import Settings
from helpdesk_api.mail.outgoing import sending_mailbox
from helpdesk_api.models import (
    Ticket,
    User,
    Webhook,
    WebhookDelivery,
)
from helpdesk_api.notifications.building import build_context
from helpdesk_api.notifications.events import NotificationEvent
from helpdesk_api.notifications.requests import NoticeRequest
from helpdesk_api.notifications.templates import TemplateProblem
from helpdesk_api.tickets import ChangeSet, NewComment, add_ccs, add_comment
from helpdesk_api.webhooks.service import payload_bytes

RULE_WEBHOOK = "trigger.webhook"  # the envelope ``type`` of a rule's call_webhook


async def add_cc(
    session: AsyncSession, ticket: Ticket, changes: ChangeSet, user_id: int
) -> str | None:
    if user_id == ticket.requester_id:
        return None  # already on every reply
    added = await add_ccs(session, ticket, [user_id], created_by=None)
    if added:
        changes.note("cc", None, added[0])
    return None


async def _requester(session: AsyncSession, ticket: Ticket) -> User:
    requester = await session.get(User, ticket.requester_id)
    assert requester is not None  # a foreign key
    return requester


async def comment(
    session: AsyncSession,
    ticket: Ticket,
    changes: ChangeSet,
    action: AddNote | PublicReply,
    *,
    settings: Settings,
    actor: Actor,
    now: datetime,
) -> str | None:
    """A private note (in the staff's view of the ticket) or a public reply (in the
    requester's language; the notification stage mails it like an agent's reply)."""
    public = isinstance(action, PublicReply)
    what = "reply" if public else "note"
    context = await build_context(
        session,
        settings,
        event=sample_for(action),
        ticket=ticket,
        recipient=await _requester(session, ticket),
    )
    try:
        _, text = render_text(action.body, context)
    except TemplateProblem as exc:
        return f"the {what} does not render: {exc}"
    if not text.strip():
        return f"the {what} renders empty"
    written = NewComment(body=text, public=public)
    await add_comment(session, ticket, written, actor=actor, changes=changes, now=now)
    return None


async def notify(
    session: AsyncSession, ticket: Ticket, changes: ChangeSet, action: Notify, *, rule: str
) -> str | None:
    """Asks the round's notification stage to send it (after the SLA stage, so it can tell
    the due times): each recipient in their own language and view of the ticket."""
    if await sending_mailbox(session, ticket.id) is None:
        return "no active mailbox to send from"
    changes.notices.append(
        NoticeRequest(
            recipient=action.recipient,
            rule=rule,
            user_id=action.user_id,
            subject=action.subject,
            body=action.body,
            template=NotificationEvent(action.template) if action.template else None,
        )
    )
    return None


async def call_webhook(
    session: AsyncSession,
    ticket: Ticket,
    action: CallWebhook,
    *,
    settings: Settings,
    now: datetime,
) -> str | None:
    """A delivery like any event's: signed, retried, listed under the webhook's deliveries,
    with the rendered payload as its ``data``."""
    webhook = await session.get(Webhook, action.webhook_id)
    if webhook is None or not webhook.is_active:
        return f"webhook {action.webhook_id} does not exist or is disabled"
    context = await build_context(
        session,
        settings,
        event=sample_for(action),
        ticket=ticket,
        recipient=await _requester(session, ticket),
    )
    try:
        _, rendered = render_text(action.payload, context)
        data = json.loads(rendered)
    except TemplateProblem as exc:
        return f"the payload does not render: {exc}"
    except ValueError as exc:
        return f"the payload does not render to JSON: {exc}"
    session.add(
        WebhookDelivery(
            webhook_id=webhook.id,
            event_id=None,
            msg_id=f"msg_rule_{uuid.uuid4().hex}",
            event_type=RULE_WEBHOOK,
            payload=payload_bytes(RULE_WEBHOOK, now, {"ticket_id": ticket.id, "payload": data}),
            next_attempt_at=now,
        )
    )
    return None
