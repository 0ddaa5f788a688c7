"""What a rule does besides setting fields: copy someone, reply, notify, call a webhook.

All of it is written inside the change's transaction (a comment, an outbox row, a webhook
delivery row), so it happens if and only if the change commits; the worker sends it after.
Each effect returns None when done, or why it could not be done, which becomes the rule's
``last_error`` (the rest of the change still commits).
"""

import json
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.actions import AddNote, CallWebhook, Notify, PublicReply
from helpdesk_api.automation.wording import render_text, sample_for
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.settings import Settings
from helpdesk_api.mail.outgoing import InvalidAddress, OutboundRecipient, OutgoingMail, enqueue
from helpdesk_api.models import (
    GroupMembership,
    IdentityKind,
    Role,
    Ticket,
    User,
    UserIdentity,
    Webhook,
    WebhookDelivery,
)
from helpdesk_api.notifications.building import build_context
from helpdesk_api.notifications.templates import TemplateProblem
from helpdesk_api.tickets import ChangeSet, NewComment, add_ccs, add_comment
from helpdesk_api.webhooks.service import payload_bytes

RULE_NOTICE = "rule_notice"  # outbound_emails.kind of a rule's notify action
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


async def private_note(
    session: AsyncSession,
    ticket: Ticket,
    changes: ChangeSet,
    action: AddNote,
    *,
    settings: Settings,
    actor: Actor,
    now: datetime,
) -> str | None:
    """A private note, its wording rendered in the staff's view of the ticket."""
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
        return f"the note does not render: {exc}"
    if not text.strip():
        return "the note renders empty"
    note = NewComment(body=text, public=False)
    await add_comment(session, ticket, note, actor=actor, changes=changes, now=now)
    return None


async def public_reply(
    session: AsyncSession,
    ticket: Ticket,
    changes: ChangeSet,
    action: PublicReply,
    *,
    settings: Settings,
    actor: Actor,
    now: datetime,
) -> str | None:
    """A public comment in the requester's language; the notification stage mails it like an
    agent's reply."""
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
        return f"the reply does not render: {exc}"
    if not text.strip():
        return "the reply renders empty"
    comment = NewComment(body=text, public=True)
    await add_comment(session, ticket, comment, actor=actor, changes=changes, now=now)
    return None


async def _recipients(session: AsyncSession, ticket: Ticket, action: Notify) -> list[User]:
    if action.recipient == "requester":
        ids = [ticket.requester_id]
    elif action.recipient == "assignee":
        ids = [ticket.assignee_id] if ticket.assignee_id is not None else []
    elif action.recipient == "user":
        ids = [action.user_id] if action.user_id is not None else []
    elif ticket.group_id is None:
        ids = []
    else:
        ids = list(
            await session.scalars(
                select(GroupMembership.user_id).where(GroupMembership.group_id == ticket.group_id)
            )
        )
    if not ids:
        return []
    staff = action.recipient != "requester"
    statement = select(User).where(User.id.in_(ids), User.is_active).order_by(User.id)
    if staff:
        statement = statement.where(User.role.in_((Role.agent, Role.admin)))
    return list(await session.scalars(statement))


async def notify(
    session: AsyncSession,
    ticket: Ticket,
    action: Notify,
    *,
    settings: Settings,
    now: datetime,
) -> str | None:
    """One e-mail per recipient, each in their own language and view of the ticket (the
    requester sees customer labels). Nobody to tell (no assignee yet) is not an error."""
    recipients = await _recipients(session, ticket, action)
    if not recipients:
        return None
    addresses = dict(
        (
            await session.execute(
                select(UserIdentity.user_id, UserIdentity.value).where(
                    UserIdentity.user_id.in_([u.id for u in recipients]),
                    UserIdentity.kind == IdentityKind.email,
                    UserIdentity.is_primary,
                )
            )
        ).all()
    )
    for user in recipients:
        address = addresses.get(user.id)
        if address is None:
            continue
        context = await build_context(
            session, settings, event=sample_for(action), ticket=ticket, recipient=user
        )
        try:
            subject, text = render_text(action.body, context, subject=action.subject)
        except TemplateProblem as exc:
            return f"the notice does not render: {exc}"
        mail = OutgoingMail(
            kind=RULE_NOTICE,
            recipient=OutboundRecipient(address, user.name, user.id),
            subject=subject,
            text=text,
            ticket_id=ticket.id,
            automatic=True,
        )
        try:
            if await enqueue(session, mail, settings=settings, now=now) is None:
                return "no active mailbox to send from"
        except InvalidAddress:
            continue  # an unusable address is the user's record, not the rule's fault
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
