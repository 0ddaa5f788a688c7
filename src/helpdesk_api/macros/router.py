from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from helpdesk_api.core.auth import Agent
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch, check_if_match, make_etag
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.core.settings import Settings
from helpdesk_api.macros import applying, service
from helpdesk_api.macros.schemas import (
    MacroApplication,
    MacroApply,
    MacroCreate,
    MacroPage,
    MacroRead,
    MacroUpdate,
)
from helpdesk_api.tickets import get_visible_ticket

router = APIRouter(prefix="/v1", tags=["macros"], route_class=TransactionalRoute)

MACROS = service.MACROS


class MacroSort(StrEnum):
    usage = "usage"
    title = "title"  # type: ignore[assignment]  # shadows str.title, harmlessly


@router.get("/macros")
async def list_macros(
    session: DB,
    principal: Agent,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Part of the title, any case."),
    ] = None,
    active: bool | None = None,
    sort: Annotated[
        MacroSort, Query(description="`usage`: most applied first; `title`: A to Z.")
    ] = MacroSort.usage,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MacroPage:
    """The macros the caller may apply: shared ones, their groups' and their own personal
    ones (admins: every group's). Agents and admins only."""
    return await service.list_macros(
        session, principal, q=q, active=active, sort=sort.value, limit=limit, cursor=cursor
    )


@router.post("/macros", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_macro(
    data: MacroCreate, session: DB, principal: Agent, response: Response
) -> MacroRead:
    """Agents create personal macros; admins also group and shared ones. Validated when
    saved: an action a macro may not take, a deleted or inactive status, group, agent or
    user, or a comment template that does not render is a 422 whose `errors[].loc` points
    at the bad part."""
    created = await service.create_macro(session, principal, data)
    MACROS.set_created(response, created)
    return service.to_read(created)


@router.get("/macros/{macro_id}")
async def get_macro(
    macro_id: ResourceId, session: DB, principal: Agent, response: Response
) -> MacroRead:
    found = await service.get_macro(session, principal, macro_id)
    MACROS.set_etag(response, found)
    return service.to_read(found)


@router.patch("/macros/{macro_id}")
async def update_macro(
    macro_id: ResourceId,
    data: MacroUpdate,
    session: DB,
    principal: Agent,
    response: Response,
    if_match: IfMatch = None,
) -> MacroRead:
    found = await service.get_macro(session, principal, macro_id, for_update=True)
    MACROS.check_if_match(if_match, found)
    updated = await service.update_macro(session, principal, found, data)
    MACROS.set_etag(response, updated)
    return service.to_read(updated)


@router.delete("/macros/{macro_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_macro(
    macro_id: ResourceId, session: DB, principal: Agent, if_match: IfMatch = None
) -> None:
    found = await service.get_macro(session, principal, macro_id, for_update=True)
    MACROS.check_if_match(if_match, found)
    await service.delete_macro(session, principal, found)


@router.post("/tickets/{ticket_id}/macros/apply", dependencies=[Idempotent])
async def apply_macros(
    ticket_id: ResourceId,
    data: MacroApply,
    request: Request,
    session: DB,
    principal: Agent,
    response: Response,
    now: Now,
    if_match: IfMatch = None,
) -> MacroApplication:
    """Applies the macros in order, as the agent, `via: macro`: a later macro wins on the
    same field; their comments (each in the requester's language when translated) are
    joined, a blank line apart, into one comment whose `public` flag is the last commenting
    macro's. `preview: true` returns the result and writes nothing. `If-Match` takes the
    ticket's ETag (412 when stale). Anything a macro cannot do here (a deactivated group, a
    template that fails on this ticket) is a 422 naming the macro, and nothing is written."""
    ticket = await get_visible_ticket(session, principal, ticket_id, for_update=not data.preview)
    check_if_match(if_match, make_etag("ticket", ticket.id, ticket.version))
    planned = await applying.plan_macros(session, principal, ticket, data)
    if data.preview:
        return await applying.preview(session, ticket, planned)
    settings: Settings = request.app.state.settings
    result = await applying.apply(session, principal, ticket, planned, now=now, settings=settings)
    response.headers["ETag"] = make_etag("ticket", ticket.id, ticket.version)
    return result
