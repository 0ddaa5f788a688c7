from fastapi import APIRouter, Response, status

from helpdesk_api.core.auth import Admin, Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.sla import calendars, policies, service
from helpdesk_api.sla.schemas import (
    CalendarCreate,
    CalendarPage,
    CalendarRead,
    CalendarUpdate,
    PolicyCreate,
    PolicyPage,
    PolicyRead,
    PolicyUpdate,
    TicketSlaRead,
)

router = APIRouter(prefix="/v1", tags=["sla"], route_class=TransactionalRoute)


@router.get("/business-calendars")
async def list_business_calendars(
    session: DB, principal: Staff, limit: Limit = 50, cursor: Cursor = None
) -> CalendarPage:
    rows, next_cursor = await calendars.list_calendars(session, limit=limit, cursor=cursor)
    return CalendarPage(data=[calendars.to_read(r) for r in rows], next_cursor=next_cursor)


@router.post("/business-calendars", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_business_calendar(
    data: CalendarCreate, session: DB, principal: Admin, response: Response
) -> CalendarRead:
    """Opening hours are local wall-clock times in `time_zone` (ISO weekdays, Monday = 1),
    several intervals per day allowed. `holidays_from: {country, years}` adds the public
    holidays of the `holidays` package; `always_open: true` is open around the clock."""
    row = await calendars.create_calendar(session, principal, data)
    calendars.CALENDARS.set_created(response, row)
    return calendars.to_read(row)


@router.get("/business-calendars/{calendar_id}")
async def get_business_calendar(
    calendar_id: ResourceId, session: DB, principal: Staff, response: Response
) -> CalendarRead:
    row = await calendars.get_calendar(session, calendar_id)
    calendars.CALENDARS.set_etag(response, row)
    return calendars.to_read(row)


@router.patch("/business-calendars/{calendar_id}")
async def update_business_calendar(
    calendar_id: ResourceId,
    data: CalendarUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> CalendarRead:
    """`holidays` replaces the list; `holidays_from` adds public holidays to it."""
    row = await calendars.CALENDARS.get_for_write(session, calendar_id, if_match)
    row = await calendars.update_calendar(session, principal, row, data)
    calendars.CALENDARS.set_etag(response, row)
    return calendars.to_read(row)


@router.delete("/business-calendars/{calendar_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_business_calendar(
    calendar_id: ResourceId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    """409 while an SLA policy uses the calendar."""
    row = await calendars.CALENDARS.get_for_write(session, calendar_id, if_match)
    await calendars.delete_calendar(session, principal, row)


@router.get("/sla-policies")
async def list_sla_policies(
    session: DB,
    principal: Staff,
    is_active: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PolicyPage:
    """In the order they are tried: by `position`, then id. The first that matches applies."""
    data, next_cursor = await policies.list_policies(
        session, is_active=is_active, limit=limit, cursor=cursor
    )
    return PolicyPage(data=data, next_cursor=next_cursor)


@router.post("/sla-policies", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_sla_policy(
    data: PolicyCreate, session: DB, principal: Admin, response: Response
) -> PolicyRead:
    """Targets per priority and metric (`first_reply`, `next_reply`, `periodic_update`,
    `resolution`), in business minutes on the policy's calendar or in calendar minutes."""
    row = await policies.create_policy(session, principal, data)
    policies.POLICIES.set_created(response, row)
    return await policies.read(session, row)


@router.get("/sla-policies/{policy_id}")
async def get_sla_policy(
    policy_id: ResourceId, session: DB, principal: Staff, response: Response
) -> PolicyRead:
    row = await policies.get_policy(session, policy_id)
    policies.POLICIES.set_etag(response, row)
    return await policies.read(session, row)


@router.patch("/sla-policies/{policy_id}")
async def update_sla_policy(
    policy_id: ResourceId,
    data: PolicyUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> PolicyRead:
    """`targets` replaces the whole list. Tickets take the change when they are next
    re-evaluated (a change of priority, group, tags, channel, type or requester)."""
    row = await policies.POLICIES.get_for_write(session, policy_id, if_match)
    row = await policies.update_policy(session, principal, row, data)
    policies.POLICIES.set_etag(response, row)
    return await policies.read(session, row)


@router.delete("/sla-policies/{policy_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_sla_policy(
    policy_id: ResourceId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    """Deactivates the policy: it matches no ticket from now on, and tickets' recorded SLAs
    keep naming it. PATCH `is_active: true` brings it back."""
    row = await policies.POLICIES.get_for_write(session, policy_id, if_match)
    await policies.update_policy(session, principal, row, PolicyUpdate(is_active=False))


@router.get("/tickets/{ticket_id}/sla")
async def get_ticket_sla(
    ticket_id: ResourceId, session: DB, principal: Staff, now: Now
) -> TicketSlaRead:
    """The policy that applies (which conditions matched, which calendar), and per metric its
    target, start, deadline (`breach_at`, null while paused), status and paused time."""
    return await service.ticket_sla(session, principal, ticket_id, now=now)
