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
from helpdesk_api.notifications.building import DueTimes, build_context, due_times
from helpdesk_api.notifications.builtin import TemplateSource
from helpdesk_api.notifications.context import SatisfactionContext
from helpdesk_api.notifications.events import NotificationEvent
from helpdesk_api.notifications.rating import rating_context
from helpdesk_api.notifications.requests import RULE_NOTICE, NoticeRequest
from helpdesk_api.notifications.templates import (
    TemplateProblem,
    render,
    render_template,
    subject_with_token,
)
from helpdesk_api.statuses.service import statuses_by_id
from helpdesk_api.tickets import TicketChange

logger = logging.getLogger("helpdesk_api.notifications")

# A public comment a trigger or an automation writes answers the customer like an agent's.
RULES = (Via.trigger, Via.automation, Via.bot)

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
        opened = change.created and ticket.group_id is not None
        requested = changes.notices
        if not (replying or moved or assigned or opened or requested):
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
        if opened:
            await self._tell_group(session, ticket, comment, send, actor_id=actor.user_id)
        for request in requested:
            await self._requested(session, ticket, request, send)
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
        due: DueTimes | None = None,
        satisfaction: SatisfactionContext | None = None,
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
                due=due,
                satisfaction=satisfaction,
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
            satisfaction=await rating_context(session, self.settings, ticket, now=change.now),
        )

    async def _requested(
        self, session: AsyncSession, ticket: Ticket, request: NoticeRequest, send: "_Sending"
    ) -> None:
        if request.template is NotificationEvent.acknowledgement:
            await self._acknowledge(session, ticket, send)
        elif request.template is not None:
            logger.warning("rule notice with an unsupported template", extra={
                "rule": request.rule, "template": request.template.value})  # fmt: skip
        else:
            await self._rule_notice(session, ticket, request, send)

    async def _acknowledge(self, session: AsyncSession, ticket: Ticket, send: "_Sending") -> None:
        """The automatic "we got your request" to the requester, with the SLA's due times.
        Mail is answered from the mailbox it came to, if it still sends and acknowledges;
        machine mail (auto-replies, lists, bounces) never is: mail loops."""
        comment, thread = None, None
        if ticket.channel == Channel.email and ticket.email_channel_id is not None:
            if send.mailbox.id != ticket.email_channel_id or not send.mailbox.acknowledge:
                return
            comment = await session.scalar(
                select(TicketComment)
                .where(TicketComment.ticket_id == ticket.id)
                .order_by(TicketComment.id)
                .limit(1)
            )
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
            comment=comment if comment is not None and comment.is_public else None,
            thread=thread,
            due=await due_times(session, ticket.id),
        )

    async def _rule_notice(
        self, session: AsyncSession, ticket: Ticket, request: NoticeRequest, send: "_Sending"
    ) -> None:
        """A rule's own wording, to each recipient in their language and view of the ticket
        (the requester sees customer labels). Wording that fails on this ticket is logged."""
        customer = request.recipient == "requester"
        event = NotificationEvent.status_changed if customer else NotificationEvent.ticket_assigned
        recipients = await _rule_recipients(session, ticket, request)
        addresses = await _email_addresses(session, [u.id for u in recipients])
        due = await due_times(session, ticket.id) if recipients else None
        for user in recipients:
            address = addresses.get(user.id)
            if address is None or request.subject is None or request.body is None:
                continue
            context = await build_context(
                session, self.settings, event=event, ticket=ticket, recipient=user, due=due
            )
            try:
                subject, text, _ = render_template(
                    TemplateSource(request.subject, request.body, None),
                    context,
                    locale=context.recipient.locale,
                )
            except TemplateProblem as problem:
                details = {"rule": request.rule, "ticket_id": ticket.id, "error": str(problem)}
                logger.warning("a rule's notice did not render", extra=details)
                return
            mail = OutgoingMail(
                kind=RULE_NOTICE,
                recipient=OutboundRecipient(address, user.name, user.id),
                subject=subject_with_token(subject, event, ticket.id),
                text=text,
                ticket_id=ticket.id,
                automatic=True,
            )
            try:
                await enqueue(session, mail, settings=self.settings, now=send.now,
                              channel=send.mailbox)  # fmt: skip
            except InvalidAddress:
                logger.warning("notification skipped: unusable address",
                               extra={"user_id": user.id, "ticket_id": ticket.id})  # fmt: skip

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


async def _rule_recipients(
    session: AsyncSession, ticket: Ticket, request: NoticeRequest
) -> list[User]:
    """Active recipients; staff only, except the requester. Nobody (no assignee yet) is fine."""
    if request.recipient == "requester":
        return await _users(session, [ticket.requester_id])
    if request.recipient == "assignee":
        ids = [ticket.assignee_id] if ticket.assignee_id is not None else []
    elif request.recipient == "user":
        ids = [request.user_id] if request.user_id is not None else []
    elif ticket.group_id is None:
        ids = []
    else:
        ids = list(
            await session.scalars(
                select(GroupMembership.user_id).where(GroupMembership.group_id == ticket.group_id)
            )
        )
    return [u for u in await _users(session, ids) if u.role != Role.customer]


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
