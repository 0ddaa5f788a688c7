"""Running a parsed file through the import service, a batch per transaction.

A batch the service refuses (a time in the future, an unknown person's external id, a ticket
imported meanwhile) is imported again one ticket per transaction, so only the bad tickets
are left out and each is reported at its lines.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.core.errors import InvalidInput, ProblemError
from helpdesk_api.imports.csv_rows import ParsedTicket, batches, with_ticket
from helpdesk_api.imports.schemas import MAX_TICKETS
from helpdesk_api.imports.service import import_tickets


@dataclass
class Outcome:
    created: int = 0
    existing: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _lines_of(exc: ProblemError, ticket: ParsedTicket) -> list[tuple[int, str]]:
    if isinstance(exc, InvalidInput) and exc.errors:
        reported = []
        for error in exc.errors:
            loc = error.loc[2:]  # past ("tickets", index)
            comment = loc[1] if len(loc) >= 2 and loc[0] == "comments" else None
            line = ticket.lines[comment] if isinstance(comment, int) else ticket.lines[0]
            reported.append((line, f"{'.'.join(str(p) for p in loc)}: {error.msg}"))
        return reported
    return [(ticket.lines[0], exc.detail)]


async def _run(
    sessionmaker: async_sessionmaker[AsyncSession], tickets: list[ParsedTicket], now: datetime
) -> tuple[int, int]:
    async with sessionmaker() as session:
        result = await import_tickets(
            session, [t.ticket for t in tickets], principal=None, now=now, loc=("tickets",)
        )
        await session.commit()
    created = sum(1 for r in result.data if r.result == "created")
    return created, len(result.data) - created


async def import_parsed(
    sessionmaker: async_sessionmaker[AsyncSession],
    tickets: list[ParsedTicket],
    *,
    now: datetime,
    advance: Callable[[int], None],
) -> Outcome:
    outcome = Outcome()
    for batch in batches(tickets, MAX_TICKETS):
        try:
            created, existing = await _run(sessionmaker, batch, now)
        except ProblemError:
            created = existing = 0
            for ticket in batch:
                try:
                    one_created, one_existing = await _run(sessionmaker, [ticket], now)
                except ProblemError as exc:
                    outcome.errors.extend(with_ticket(_lines_of(exc, ticket), ticket.lines))
                    continue
                created += one_created
                existing += one_existing
        outcome.created += created
        outcome.existing += existing
        advance(len(batch))
    outcome.errors.sort()
    return outcome
