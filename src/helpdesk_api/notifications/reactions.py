"""Who is told what when a ticket changes: the notification stage of the ticket pipeline.

Runs inside the change's transaction and only writes the outbox, so a notice is sent if and
only if the change commits. Each recipient gets a message of their own, in their own locale.

- An agent's (or a rule's) public reply goes to the requester and the customers copied
  (never a private note: ``build_context`` refuses one for a customer, and only public
  comments get here).
- A status that says so (``notify_requester``) tells the requester, unless a public reply
  in the same change already told them.
- A new e-mail ticket gets an acknowledgement, unless its mailbox has them off or the mail
  was machine mail (auto-replies, lists, bounces must never be answered: mail loops).
- Staff hear of assignments (on unless they turn it off) and of new tickets in their groups
  (off unless they turn it on), never of their own doing.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.settings import Settings
from helpdesk_api.mail.outgoing import (
    InvalidAddress,
    OutboundRecipient,
    OutgoingMail,
    ThreadHeaders,
    enqueue,
    sending_mailbox,
)
from helpdesk_api.models import (
    CcKind,
    Channel,
    EmailChannel,
    GroupMembership,
    IdentityKind,
    Role,
    Ticket,
    TicketCc,
    TicketComment,
    TicketStatus,
    User,
    UserIdentity,
    Via,
)
from helpdesk_api.notifications.building import build_context
from helpdesk_api.notifications.events import NotificationEvent
from helpdesk_api.notifications.templates import render
from helpdesk_api.statuses.service import statuses_by_id
from helpdesk_api.tickets import TicketChange

logger = logging.getLogger("helpdesk_api.notifications")

# A public comment a trigger or an automation writes answers the customer like an agent's.
RULES = (Via.trigger, Via.automation)

# Staff preferences (users.notification_settings) and what they mean when absent.
STAFF_DEFAULTS = {
    NotificationEvent.ticket_assigned: True,
    NotificationEvent.ticket_created: False,
}


@dataclass(frozen=True)
class _Sending:
    mailbox: EmailChannel  # every notice of one change goes out from the same mailbox
    now: datetime


class Notifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __call__(self, session: AsyncSession, change: TicketChange) -> None:
        ticket, changes, actor = change.ticket, change.changes, change.actor
        # Decided from the change alone (the statuses are cached per session): most changes
        # tell nobody, and they cost no query here.
        replying = (
            not change.created
            and changes.comment_id is not None
            and changes.comment_public
            and (actor.is_agent or actor.via in RULES)
        )
        moved = (
            not change.created
            and changes.changed("status")
            and (await statuses_by_id(session, [ticket.status_id]))[
                ticket.status_id
            ].notify_requester
        )
        assigned = changes.changed("assignee_id") and ticket.assignee_id not in (
            None,
            actor.user_id,
        )
        opened = change.created and (ticket.channel == Channel.email or ticket.group_id)
        if not (replying or moved or assigned or opened):
            return
        # Most changes tell nobody; and without a mailbox to send from nothing is rendered.
        mailbox = await sending_mailbox(session, ticket.id)
        if mailbox is None:
            return
        comment = (
            await session.get(TicketComment, changes.comment_id)
            if changes.comment_id is not None
            else None
        )
        send = _Sending(mailbox, change.now)
        if change.created:
            await self._acknowledge(session, ticket, comment, send)
            await self._tell_group(session, ticket, comment, send, actor_id=actor.user_id)
        replied = replying and await self._public_reply(session, ticket, comment, send)
        if moved and not replied:
            await self._status_changed(session, change, send)
        if assigned:
            actor_name = await _name(session, actor.user_id)
            await self._assigned(session, ticket, send, actor_name=actor_name)

    async def _send(
        self,
        session: AsyncSession,
        event: NotificationEvent,
        ticket: Ticket,
        recipients: Iterable[User],
        send: "_Sending",
        *,
        comment: TicketComment | None = None,
        actor_name: str | None = None,
        previous_status: TicketStatus | None = None,
        thread: ThreadHeaders | None = None,
    ) -> int:
        people = [u for u in recipients if u.is_active]
        addresses = await _email_addresses(session, [u.id for u in people])
        sent = 0
        for user in people:
            address = addresses.get(user.id)
            if address is None:
                continue
            context = await build_context(
                session,
                self.settings,
                event=event,
                ticket=ticket,
                recipient=user,
                comment=comment,
                actor_name=actor_name,
                previous_status=previous_status,
            )
            rendered = await render(session, event, context.recipient.locale, context)
            mail = OutgoingMail(
                kind=event.value,
                recipient=OutboundRecipient(address, user.name, user.id),
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                ticket_id=ticket.id,
                comment_id=comment.id if comment is not None else None,
                automatic=event is NotificationEvent.acknowledgement,
                thread=thread,
            )
            try:
                if await enqueue(
                    session, mail, settings=self.settings, now=send.now, channel=send.mailbox
                ):
                    sent += 1
            except InvalidAddress:
                logger.warning(
                    "notification skipped: unusable address",
                    extra={"user_id": user.id, "ticket_id": ticket.id, "kind": event.value},
                )
        return sent

    async def _public_reply(
        self,
        session: AsyncSession,
        ticket: Ticket,
        comment: TicketComment | None,
        send: "_Sending",
    ) -> bool:
        assert comment is not None
        ids = [ticket.requester_id, *await _copied_customers(session, ticket.id)]
        recipients = [u for u in await _users(session, ids) if u.id != comment.author_id]
        author = await _name(session, comment.author_id)
        sent = await self._send(
            session,
            NotificationEvent.public_reply,
            ticket,
            recipients,
            send,
            comment=comment,
            actor_name=author,
        )
        return sent > 0

    async def _status_changed(
        self, session: AsyncSession, change: TicketChange, send: "_Sending"
    ) -> None:
        ticket = change.ticket
        status = await session.get(TicketStatus, ticket.status_id)
        if status is None or not status.notify_requester:
            return
        if change.actor.user_id == ticket.requester_id:
            return
        previous = None
        for entry in change.changes.changes:
            if entry["field"] == "status" and isinstance(entry["from"], dict):
                previous = await session.get(TicketStatus, entry["from"]["id"])
        await self._send(
            session,
            NotificationEvent.status_changed,
            ticket,
            await _users(session, [ticket.requester_id]),
            send,
            actor_name=await _name(session, change.actor.user_id),
            previous_status=previous,
        )

    async def _acknowledge(
        self,
        session: AsyncSession,
        ticket: Ticket,
        comment: TicketComment | None,
        send: "_Sending",
    ) -> None:
        if ticket.channel != Channel.email or ticket.email_channel_id is None:
            return
        # Acknowledged from the mailbox the mail came to, if it still sends; else not at all.
        if send.mailbox.id != ticket.email_channel_id or not send.mailbox.acknowledge:
            return
        source = (comment.source or {}).get("email", {}) if comment is not None else {}
        if source.get("automatic"):
            return
        # The message is not yet linked to its ticket: answer it by its own Message-ID.
        message_id = source.get("message_id")
        thread = ThreadHeaders(message_id, [message_id]) if message_id else None
        await self._send(
            session,
            NotificationEvent.acknowledgement,
            ticket,
            await _users(session, [ticket.requester_id]),
            send,
            comment=comment,
            thread=thread,
        )

    async def _tell_group(
        self,
        session: AsyncSession,
        ticket: Ticket,
        comment: TicketComment | None,
        send: "_Sending",
        *,
        actor_id: int | None,
    ) -> None:
        if ticket.group_id is None:
            return
        members = await session.scalars(
            select(User)
            .join(GroupMembership, GroupMembership.user_id == User.id)
            .where(GroupMembership.group_id == ticket.group_id, User.role != Role.customer)
            .order_by(User.id)
        )
        wanted = [
            u for u in members if u.id != actor_id and _wants(u, NotificationEvent.ticket_created)
        ]
        await self._send(
            session,
            NotificationEvent.ticket_created,
            ticket,
            wanted,
            send,
            comment=comment,
            actor_name=await _name(session, actor_id),
        )

    async def _assigned(
        self, session: AsyncSession, ticket: Ticket, send: "_Sending", *, actor_name: str | None
    ) -> None:
        assignees = [
            u
            for u in await _users(session, [ticket.assignee_id] if ticket.assignee_id else [])
            if _wants(u, NotificationEvent.ticket_assigned)
        ]
        await self._send(
            session,
            NotificationEvent.ticket_assigned,
            ticket,
            assignees,
            send,
            actor_name=actor_name,
        )


def _wants(user: User, event: NotificationEvent) -> bool:
    choice = (user.notification_settings or {}).get(event.value)
    return STAFF_DEFAULTS[event] if choice is None else bool(choice)


async def _users(session: AsyncSession, ids: list[int]) -> list[User]:
    if not ids:
        return []
    rows = await session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id))
    return list(rows)


async def _name(session: AsyncSession, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return await session.scalar(select(User.name).where(User.id == user_id))


async def _copied_customers(session: AsyncSession, ticket_id: int) -> list[int]:
    rows = await session.scalars(
        select(TicketCc.user_id).where(TicketCc.ticket_id == ticket_id, TicketCc.kind == CcKind.cc)
    )
    return list(rows)


async def _email_addresses(session: AsyncSession, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await session.execute(
        select(UserIdentity.user_id, UserIdentity.value)
        .where(
            UserIdentity.user_id.in_(user_ids),
            UserIdentity.kind == IdentityKind.email,
            UserIdentity.is_primary,
        )
        .order_by(UserIdentity.user_id)
    )
    return {row.user_id: row.value for row in rows}
