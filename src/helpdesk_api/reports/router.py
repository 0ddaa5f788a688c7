from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from helpdesk_api.core.auth import Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.params import ResourceId, Timestamp
from helpdesk_api.models import Channel, Priority, TicketType
from helpdesk_api.reports import activity, backlog, metrics_read, tickets_report
from helpdesk_api.reports.activity import ActivityReport
from helpdesk_api.reports.metrics_schemas import TicketMetricsRead
from helpdesk_api.reports.report_schemas import TicketReport
from helpdesk_api.reports.request import Filters, parse

router = APIRouter(prefix="/v1", tags=["reports"], route_class=TransactionalRoute)


@router.get("/tickets/{ticket_id}/metrics")
async def get_ticket_metrics(
    ticket_id: ResourceId, session: DB, principal: Staff
) -> TicketMetricsRead:
    """The ticket's metrics, kept as it changes: reply, resolution and wait times in calendar
    and business minutes, replies, reopens, reassignments. Staff who may see the ticket."""
    return await metrics_read.ticket_metrics(session, principal, ticket_id)


_CSV = "text/csv"


@router.get(
    "/reports/tickets",
    response_model=TicketReport,
    responses={200: {"content": {_CSV: {"schema": {"type": "string"}}}}},
)
async def get_ticket_report(
    request: Request,
    session: DB,
    principal: Staff,
    metrics: Annotated[
        str,
        Query(
            max_length=2000,
            description="Comma-separated: created, solved, backlog, fcr_rate, reopen_rate, "
            "sla_achieved_rate, csat_score, and durations with a statistic "
            "(first_reply_time.p50, resolution_time_business.p90, agent_wait_time.avg, …).",
        ),
    ],
    start: Annotated[Timestamp, Query(alias="from", description="Inclusive.")],
    end: Annotated[Timestamp, Query(alias="to", description="Exclusive.")],
    group_by: Annotated[
        str | None,
        Query(
            max_length=100,
            description="channel, group, assignee, priority, tag, organization, locale, type "
            "or status (the ticket's current value). product and custom_field:KEY are "
            "refused: tickets carry neither yet.",
        ),
    ] = None,
    interval: Annotated[
        str | None,
        Query(max_length=10, description="hour, day, week or month; none: one bucket."),
    ] = None,
    tz: Annotated[
        str | None,
        Query(max_length=64, description="IANA time zone of the buckets; UTC when omitted."),
    ] = None,
    group_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    assignee_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    organization_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    product_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    priority: Annotated[Priority | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    type: Annotated[TicketType | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
) -> Any:
    """Ticket counts, rates and duration percentiles per time bucket (in `tz`, daylight-saving
    days included) and per dimension value, over the tickets the caller may see. `Accept:
    text/csv` returns the same rows as CSV."""
    parsed = parse(
        metrics=metrics,
        group_by=group_by,
        interval=interval,
        start=start,
        end=end,
        tz=tz or "UTC",
        filters=Filters(
            group_id=group_id,
            assignee_id=assignee_id,
            organization_id=organization_id,
            product_id=product_id,
            priority=priority,
            channel=channel,
            type=type,
            tag=tag,
        ),
    )
    report = await tickets_report.ticket_report(session, principal, parsed)
    if _CSV in request.headers.get("accept", ""):
        return Response(tickets_report.as_csv(report), media_type=f"{_CSV}; charset=utf-8")
    # Serialised once here: FastAPI would validate every row of a large report again.
    return Response(report.model_dump_json(by_alias=True), media_type="application/json")


@router.get("/reports/agents")
async def get_agent_activity(
    session: DB,
    principal: Staff,
    start: Annotated[Timestamp, Query(alias="from", description="Inclusive.")],
    end: Annotated[Timestamp, Query(alias="to", description="Exclusive.")],
) -> ActivityReport:
    """Per agent, for the period: tickets solved (by their assignee), public replies written,
    CSAT and SLA achievement, over the tickets the caller may see."""
    return await activity.activity(session, principal, "agent", start, end)


@router.get("/reports/groups")
async def get_group_activity(
    session: DB,
    principal: Staff,
    start: Annotated[Timestamp, Query(alias="from", description="Inclusive.")],
    end: Annotated[Timestamp, Query(alias="to", description="Exclusive.")],
) -> ActivityReport:
    """Per group, for the period: tickets solved, public replies, CSAT and SLA achievement.
    A group-restricted agent gets their groups only."""
    return await activity.activity(session, principal, "group", start, end)


@router.get("/reports/backlog")
async def get_backlog_history(
    session: DB,
    principal: Staff,
    start: Annotated[date, Query(alias="from", description="First day (UTC), inclusive.")],
    end: Annotated[date, Query(alias="to", description="Last day (UTC), inclusive.")],
    group_by: Annotated[backlog.Dimension | None, Query()] = None,
) -> backlog.BacklogHistory:
    """Open tickets per day, from the worker's daily snapshots (taken at each UTC day's
    first run), summed by status category, group or priority."""
    return await backlog.history(session, principal, start, end, group_by)


@router.get("/reports/backlog/age")
async def get_backlog_age(session: DB, principal: Staff, now: Now) -> backlog.BacklogAge:
    """The open tickets the caller may see now, by age since creation and status category."""
    return await backlog.age(session, principal, now)
