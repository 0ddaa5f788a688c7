"""Which ticket a reply belongs to, and why: Message-IDs first, then our tokens.

A match is only a candidate: the sender must be on that ticket (its requester, a CC, or staff
who may work it), or the mail opens a new ticket instead. Otherwise anyone who saw a ticket
number, or was sent a forwarded notification, could write into another customer's ticket.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.mail.outgoing import ticket_id_from_message_id, ticket_id_from_subject
from helpdesk_api.mail.parsing import ParsedMail
from helpdesk_api.models import (
    GroupMembership,
    InboundEmail,
    OutboundEmail,
    Role,
    Ticket,
    TicketAccess,
    TicketCc,
    User,
)

# A merged ticket's replies go to the ticket it was merged into; chains are short.
_MAX_MERGE_HOPS = 10


class ThreadMatch(StrEnum):
    in_reply_to = "in-reply-to"
    references = "references"
    message_id_token = "message-id-token"
    subject_token = "subject-token"


@dataclass(frozen=True)
class Candidate:
    ticket_id: int
    match: ThreadMatch


async def _ticket_of_message_ids(session: AsyncSession, ids: Sequence[str]) -> int | None:
    """The ticket of the latest of these messages we received or sent."""
    if not ids:
        return None
    received = await session.scalar(
        select(InboundEmail.ticket_id)
        .where(InboundEmail.message_id.in_(ids), InboundEmail.ticket_id.is_not(None))
        .order_by(InboundEmail.id.desc())
        .limit(1)
    )
    if received is not None:
        return received
    return await session.scalar(
        select(OutboundEmail.ticket_id)
        .where(
            OutboundEmail.message_id.in_(ids),
            OutboundEmail.ticket_id.is_not(None),
        )
        .order_by(OutboundEmail.id.desc())
        .limit(1)
    )


async def find_candidate(
    session: AsyncSession, parsed: ParsedMail, our_domains: Sequence[str]
) -> Candidate | None:
    found = await _ticket_of_message_ids(session, parsed.in_reply_to)
    if found is not None:
        return Candidate(found, ThreadMatch.in_reply_to)
    found = await _ticket_of_message_ids(session, list(reversed(parsed.references)))
    if found is not None:
        return Candidate(found, ThreadMatch.references)
    for message_id in [*parsed.in_reply_to, *reversed(parsed.references)]:
        token = ticket_id_from_message_id(message_id, our_domains)
        if token is not None:
            return Candidate(token, ThreadMatch.message_id_token)
    token = ticket_id_from_subject(parsed.subject)
    if token is not None:
        return Candidate(token, ThreadMatch.subject_token)
    return None


async def follow_merges(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """The ticket, locked, or the one it was merged into; None if it does not exist."""
    for _ in range(_MAX_MERGE_HOPS):
        ticket = await session.scalar(
            select(Ticket).where(Ticket.id == ticket_id).with_for_update()
        )
        if ticket is None or ticket.merged_into_id is None:
            return ticket
        ticket_id = ticket.merged_into_id
    return None


async def may_write_into(session: AsyncSession, user: User, ticket: Ticket) -> bool:
    """The requester, a CC or follower, or staff who may work the ticket."""
    if not user.is_active:
        return False
    if user.id == ticket.requester_id:
        return True
    if user.role == Role.customer:
        return bool(
            await session.scalar(
                select(exists().where(TicketCc.ticket_id == ticket.id, TicketCc.user_id == user.id))
            )
        )
    if user.role == Role.admin or user.ticket_access == TicketAccess.all:
        return True
    if ticket.assignee_id == user.id:
        return True
    if ticket.group_id is None:
        return False
    return bool(
        await session.scalar(
            select(
                exists().where(
                    GroupMembership.group_id == ticket.group_id,
                    GroupMembership.user_id == user.id,
                )
            )
        )
    )
