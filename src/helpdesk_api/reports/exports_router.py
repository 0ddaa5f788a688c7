from typing import Annotated, Any

from fastapi import APIRouter, Query

from helpdesk_api.core.auth import Admin, Principal
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.params import Timestamp
from helpdesk_api.events.feed import Position
from helpdesk_api.reports import exports
from helpdesk_api.reports.exports import ExportKind
from helpdesk_api.reports.exports_schemas import (
    CommentExportPage,
    TicketExportPage,
    TicketMetricsExportPage,
    UserExportPage,
)

router = APIRouter(prefix="/v1/exports", tags=["exports"], route_class=TransactionalRoute)

StartTime = Annotated[
    Timestamp | None,
    Query(description="For a first page: changes from this time on. Ignored with cursor."),
]
ExportCursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
]
ExportLimit = Annotated[int, Query(ge=1, le=1000, description="Resources per page (100).")]


async def _page(
    session: DB,
    principal: Principal,
    kind: ExportKind,
    start_time: Any,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    exports.check_start(cursor, start_time)
    if cursor is not None:
        position = Position.decode(cursor, loc=("query", "cursor"))
    else:
        position = await exports.start_position(session, start_time)
    page = await exports.walk(session, principal, kind, position, limit)
    return {
        "data": await exports.load(session, kind, page.ids),
        "next_cursor": page.position.encode(),
        "end_of_stream": page.end_of_stream,
    }


@router.get("/tickets")
async def export_tickets(
    session: DB, principal: Admin, start_time: StartTime = None, cursor: ExportCursor = None,
    limit: ExportLimit = 100,
) -> TicketExportPage:  # fmt: skip
    """Tickets changed since `start_time` (or the cursor), each once per page as it is now,
    in commit-safe order. Admins only: an export hands over every ticket."""
    page = await _page(session, principal, ExportKind.tickets, start_time, cursor, limit)
    return TicketExportPage.model_validate(page)


@router.get("/comments")
async def export_comments(
    session: DB, principal: Admin, start_time: StartTime = None, cursor: ExportCursor = None,
    limit: ExportLimit = 100,
) -> CommentExportPage:  # fmt: skip
    """Comments written since `start_time` (or the cursor), private notes included. Admins
    only."""
    page = await _page(session, principal, ExportKind.comments, start_time, cursor, limit)
    return CommentExportPage.model_validate(page)


@router.get("/users")
async def export_users(
    session: DB, principal: Admin, start_time: StartTime = None, cursor: ExportCursor = None,
    limit: ExportLimit = 100,
) -> UserExportPage:  # fmt: skip
    """Users created or changed since `start_time` (or the cursor). Admins only."""
    page = await _page(session, principal, ExportKind.users, start_time, cursor, limit)
    return UserExportPage.model_validate(page)


@router.get("/ticket-metrics")
async def export_ticket_metrics(
    session: DB, principal: Admin, start_time: StartTime = None, cursor: ExportCursor = None,
    limit: ExportLimit = 100,
) -> TicketMetricsExportPage:  # fmt: skip
    """Ticket metrics changed since `start_time` (or the cursor). Admins only."""
    page = await _page(session, principal, ExportKind.ticket_metrics, start_time, cursor, limit)
    return TicketMetricsExportPage.model_validate(page)
