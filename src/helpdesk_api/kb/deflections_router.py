"""The requester's answer to the bot (public, by the link's token) and deflections for
reports (staff)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from helpdesk_api.core.auth import Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.errors import problem_responses
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import Timestamp
from helpdesk_api.kb import deflections
from helpdesk_api.kb.deflection_schemas import (
    DeflectionAnswer,
    DeflectionAnswered,
    DeflectionCounts,
    DeflectionPage,
    deflection_read,
)
from helpdesk_api.kb.visitors import Reader
from helpdesk_api.models import DeflectionState

router = APIRouter(prefix="/v1", tags=["knowledge-base"], route_class=TransactionalRoute)

OPTIONAL_TOKEN: dict[str, Any] = {"security": [{}]}
From = Annotated[Timestamp | None, Query(alias="from", description="Inclusive; by offered_at.")]
To = Annotated[Timestamp | None, Query(alias="to", description="Exclusive; by offered_at.")]


@router.post(
    "/public/deflections/{token}",
    openapi_extra=OPTIONAL_TOKEN,
    responses=problem_responses(
        status_404="Unknown token (or another requester's, with a customer's token)",
        status_409="Already answered: a link answers once",
    ),
)
async def answer_deflection(
    token: str,
    data: DeflectionAnswer,
    session: DB,
    now: Now,
    principal: Reader,
) -> DeflectionAnswered:
    """The requester's answer to the bot's reply, from the page its link opens (the
    setting `kb_deflection_url`). `solved: true` solves the ticket through the ticket
    pipeline (`via: bot`, by the requester) unless it is already solved or closed;
    `false` leaves it to the agents. The token is the authority (no token needed); a
    customer's token, when sent, must be the requester's (`404` otherwise); staff tokens
    are refused (`403`). A link answers once: again, `409`, nothing changes.

    In a messaging channel the requester may answer instead with a message that is only
    a "solved" keyword (solved, resolved, risolto, решено, megoldva, rezolvat)."""
    return await deflections.answer_by_link(
        session, token, solved=data.solved, principal=principal, now=now
    )


@router.get("/kb/deflections")
async def list_deflections(
    session: DB,
    principal: Staff,
    start: From = None,
    end: To = None,
    state: Annotated[DeflectionState | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> DeflectionPage:
    """The bot's replies, newest first, with the requester's answer: for reports of
    tickets deflected. Staff who see only some tickets see only those tickets' deflections."""
    rows, next_cursor = await deflections.list_deflections(
        session, principal, start=start, end=end, state=state, limit=limit, cursor=cursor
    )
    return DeflectionPage(data=[deflection_read(r) for r in rows], next_cursor=next_cursor)


@router.get("/kb/deflections/counts")
async def count_deflections(
    session: DB, principal: Staff, start: From = None, end: To = None
) -> DeflectionCounts:
    """How many bot replies were offered in the range, and how they were answered."""
    return await deflections.count_deflections(session, principal, start=start, end=end)
