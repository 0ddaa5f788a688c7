from fastapi import APIRouter

from helpdesk_api.core.auth import Admin
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.errors import problem_responses
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.imports import service
from helpdesk_api.imports.schemas import ImportRequest, ImportResult

router = APIRouter(prefix="/v1/imports", tags=["imports"], route_class=TransactionalRoute)


@router.post(
    "/tickets",
    dependencies=[Idempotent],
    responses=problem_responses(status_409="A ticket of the batch was imported concurrently"),
)
async def import_tickets(
    data: ImportRequest, session: DB, principal: Admin, now: Now
) -> ImportResult:
    """Import up to 100 tickets from another help desk (admins), with their original
    `created_at`, requester, comments (public and private, with authors and times), tags,
    priority, type and status (the category's default status; `closed` when left out).
    People are found by `external_id`, else by e-mail, and created as customers when
    unknown; staff found by e-mail author their replies.

    Nothing reacts to imported history: no trigger, notification, SLA clock or event. Each
    ticket has one audit (`via: import`) and its comments `via: import`; it is searchable
    and counted in reports like any other.

    Idempotent by the ticket's `external_id`: one already there is answered `existing`
    and not changed. All or nothing per call: one bad ticket (`422` naming it, e.g. a
    time in the future, a comment older than its ticket, an external id listed twice)
    and none of the batch is written."""
    return await service.import_tickets(session, data.tickets, principal=principal, now=now)
