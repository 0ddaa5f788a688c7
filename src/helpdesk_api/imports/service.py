"""Importing tickets as they were in another help desk, with their history.

Each ticket is written as it stands at the end of its history: its original times, status
(the category's default status), tags and comments with their authors and times. Nothing
reacts: the ticket pipeline is not run, so no rule fires, no notice is mailed and no SLA clock
starts for the past, and no event is recorded (integrators would receive years of history
as news). Each ticket's audits (``via = import``) say what the import knows: opened at its
``created_at``, in its status by its last comment; its ``ticket_metrics`` row is computed
from them and the comments (``reports.compute_ticket_metrics``), so reports count it like any
other. The search documents are kept by the database's triggers as for any comment.

Idempotent by ``external_id``: a ticket already there is reported ``existing`` and left as it
is. All or nothing per call: any bad ticket refuses the whole batch (422 naming it), and the
caller's one transaction writes nothing.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.core.tags import normalize_tags
from helpdesk_api.imports.people import Loc, People
from helpdesk_api.imports.schemas import ImportedTicket, ImportResult, ImportTicket
from helpdesk_api.models import (
    STAFF_ROLES,
    Channel,
    Priority,
    PriorityRank,
    StatusCategory,
    Ticket,
    TicketAudit,
    TicketComment,
    TicketStatus,
    User,
    Via,
)
from helpdesk_api.reports import compute_ticket_metrics
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets import adjust_tag_counts

_DONE = (StatusCategory.solved, StatusCategory.closed)
# Older times are typos (year 0024 for 2024), and the earliest ones would not even convert
# to UTC on their way into the database.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


async def import_tickets(
    session: AsyncSession,
    tickets: Sequence[ImportTicket],
    *,
    principal: Principal | None,
    now: datetime,
    loc: Loc = ("body", "tickets"),
) -> ImportResult:
    _check_batch(tickets, now=now, loc=loc)
    existing = {
        row.external_id: row
        for row in await session.execute(
            select(Ticket.external_id, Ticket.id, Ticket.created_at).where(
                Ticket.external_id.in_([t.external_id for t in tickets])
            )
        )
    }
    people = People(session, principal)
    statuses: dict[StatusCategory, TicketStatus] = {}
    results = []
    for index, data in enumerate(tickets):
        found = existing.get(data.external_id)
        if found is not None:
            results.append(
                ImportedTicket(external_id=data.external_id, ticket_id=found.id,
                               result="existing", created_at=found.created_at)
            )  # fmt: skip
            continue
        category = data.status or StatusCategory.closed
        if category not in statuses:
            statuses[category] = await default_status(session, category)
        if StatusCategory.new not in statuses:
            statuses[StatusCategory.new] = await default_status(session, StatusCategory.new)
        ticket = await _write(
            session, data, people, statuses[category], statuses[StatusCategory.new],
            actor_id=principal.user_id if principal else None, now=now, loc=(*loc, index),
        )  # fmt: skip
        results.append(
            ImportedTicket(external_id=data.external_id, ticket_id=ticket.id, result="created",
                           created_at=ticket.created_at)
        )  # fmt: skip
    return ImportResult(data=results)


def _check_batch(tickets: Sequence[ImportTicket], *, now: datetime, loc: Loc) -> None:
    seen: set[str] = set()
    for index, ticket in enumerate(tickets):
        at = (*loc, index)
        if ticket.external_id in seen:
            raise InvalidInput(
                f"external_id {ticket.external_id!r} is listed twice.",
                loc=(*at, "external_id"),
                type="duplicate",
            )
        seen.add(ticket.external_id)
        if ticket.created_at > now:
            raise _in_future((*at, "created_at"))
        if ticket.created_at < EARLIEST:
            raise InvalidInput(
                "The time is before 1970: a typo?", loc=(*at, "created_at"), type="too_old"
            )
        for number, comment in enumerate(ticket.comments):
            where = (*at, "comments", number, "created_at")
            if comment.created_at > now:
                raise _in_future(where)
            if comment.created_at < ticket.created_at:
                raise InvalidInput(
                    "A comment cannot be older than its ticket.", loc=where, type="before_ticket"
                )


def _in_future(loc: Loc) -> InvalidInput:
    return InvalidInput("The time is in the future.", loc=loc, type="in_future")


async def _write(
    session: AsyncSession,
    data: ImportTicket,
    people: People,
    status: TicketStatus,
    new_status: TicketStatus,
    *,
    actor_id: int | None,
    now: datetime,
    loc: Loc,
) -> Ticket:
    requester = await people.resolve(data.requester, (*loc, "requester"))
    authored: list[tuple[int, User]] = []
    for number, comment in enumerate(data.comments):
        author = await people.resolve(comment.author, (*loc, "comments", number, "author"))
        authored.append((number, author))
    # The request first, then in time order (a stable sort keeps the given order on ties).
    authored.sort(key=lambda pair: data.comments[pair[0]].created_at)
    tags = normalize_tags(data.tags or [], loc=(*loc, "tags"))
    last = data.comments[authored[-1][0]].created_at
    replies = [(data.comments[n], author) for n, author in authored[1:]]
    agent_replies = [c.created_at for c, a in replies if c.public and a.role in STAFF_ROLES]
    requester_replies = [c.created_at for c, a in replies if c.public and a.id == requester.id]
    public_times = [data.comments[n].created_at for n, _ in authored if data.comments[n].public]
    priority = data.priority or Priority.normal
    ticket = Ticket(
        subject=data.subject,
        requester_id=requester.id,
        submitter_id=requester.id,
        organization_id=requester.organization_id,
        status_id=status.id,
        status_category=status.category,
        priority=priority,
        priority_rank=PriorityRank[priority].value,
        type=data.type,
        channel=data.channel or Channel.api,
        tags=tags,
        external_id=data.external_id,
        created_at=data.created_at,
        updated_at=last,
        status_changed_at=last,
        solved_at=last if status.category in _DONE else None,
        first_agent_reply_at=min(agent_replies, default=None),
        last_public_comment_at=max(public_times, default=None),
        last_requester_reply_at=max(requester_replies, default=None),
        last_agent_reply_at=max(agent_replies, default=None),
        comment_count=len(authored),
    )
    session.add(ticket)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"A ticket with external_id {data.external_id!r} was imported by a concurrent "
            "request; send the batch again (it will be reported as existing)."
        ) from exc
    session.add_all(
        TicketComment(
            ticket_id=ticket.id,
            author_id=author.id,
            body=data.comments[number].body,
            is_public=data.comments[number].public,
            via=Via.imported,
            created_at=data.comments[number].created_at,
        )
        for number, author in authored
    )
    # What the import knows of the ticket's life, as audits at their times: opened when it
    # was created, in its status by its last activity. Reports fold them like any ticket's.
    opened = {"id": new_status.id, "category": new_status.category}
    history = [
        (
            data.created_at,
            [
                {
                    "field": "imported",
                    "from": None,
                    "to": {"external_id": data.external_id, "comments": len(authored)},
                },
                {"field": "status", "from": None, "to": opened},
            ],
        )
    ]
    if status.id != new_status.id:
        history.append(
            (
                last,
                [
                    {
                        "field": "status",
                        "from": opened,
                        "to": {"id": status.id, "category": status.category},
                    }
                ],
            )
        )
    session.add_all(
        TicketAudit(
            ticket_id=ticket.id, actor_id=actor_id, via=Via.imported, changes=changes, created_at=at
        )
        for at, changes in history
    )  # fmt: skip
    await session.flush()
    await adjust_tag_counts(session, tags, ())
    await compute_ticket_metrics(session, ticket, now)
    return ticket
