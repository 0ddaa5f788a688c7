from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from helpdesk_api.core.auth import Agent
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.core.settings import Settings
from helpdesk_api.tickets import INCLUDE_DESCRIPTION, TicketPage, included, parse_include, present
from helpdesk_api.views import service
from helpdesk_api.views.counts import ViewCountCache
from helpdesk_api.views.schemas import ViewCounts, ViewCreate, ViewPage, ViewRead, ViewUpdate

router = APIRouter(prefix="/v1", tags=["views"], route_class=TransactionalRoute)

VIEWS = service.VIEWS
MAX_COUNTED = 50


@router.get("/views")
async def list_views(
    session: DB,
    principal: Agent,
    active: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ViewPage:
    """The views the caller may use, by `position`: shared ones, their groups' and their own
    personal ones (admins: every group's). Agents and admins only."""
    return await service.list_views(session, principal, active=active, limit=limit, cursor=cursor)


@router.post("/views", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_view(
    data: ViewCreate, session: DB, principal: Agent, response: Response
) -> ViewRead:
    """Agents create personal views; admins also group and shared ones. A bad condition is
    a 422 whose `errors[].loc` points at it."""
    created = await service.create_view(session, principal, data)
    VIEWS.set_created(response, created)
    return service.to_read(created)


@router.get("/views/counts")
async def count_views(
    request: Request,
    session: DB,
    principal: Agent,
    now: Now,
    ids: Annotated[
        list[Annotated[int, Query(ge=1, le=2**63 - 1)]],
        Query(min_length=1, max_length=MAX_COUNTED, description="Repeatable: `ids=1&ids=2`."),
    ],
) -> ViewCounts:
    """Badge counts for up to 50 views, each as the caller would list it, counted up to
    `HELPDESK_VIEW_COUNT_CAP` (10,000: `capped` beyond) and kept for
    `HELPDESK_VIEW_COUNT_TTL_SECONDS` (30 s) per view and caller. A view the caller may not
    see is a 404."""
    settings: Settings = request.app.state.settings
    cache: ViewCountCache | None = getattr(request.app.state, "view_counts", None)
    if cache is None:
        cache = ViewCountCache(settings.view_count_ttl_seconds, settings.view_count_cap)
        request.app.state.view_counts = cache
    counts = []
    for view_id in dict.fromkeys(ids):
        view = await service.get_view(session, principal, view_id)
        counts.append(await cache.count(session, principal, view, now))
    return ViewCounts(data=counts)


@router.get("/views/{view_id}")
async def get_view(
    view_id: ResourceId, session: DB, principal: Agent, response: Response
) -> ViewRead:
    found = await service.get_view(session, principal, view_id)
    VIEWS.set_etag(response, found)
    return service.to_read(found)


@router.patch("/views/{view_id}")
async def update_view(
    view_id: ResourceId,
    data: ViewUpdate,
    session: DB,
    principal: Agent,
    response: Response,
    if_match: IfMatch = None,
) -> ViewRead:
    found = await service.get_view(session, principal, view_id, for_update=True)
    VIEWS.check_if_match(if_match, found)
    updated = await service.update_view(session, principal, found, data)
    VIEWS.set_etag(response, updated)
    return service.to_read(updated)


@router.delete("/views/{view_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_view(
    view_id: ResourceId, session: DB, principal: Agent, if_match: IfMatch = None
) -> None:
    found = await service.get_view(session, principal, view_id, for_update=True)
    VIEWS.check_if_match(if_match, found)
    await service.delete_view(session, principal, found)


@router.get("/views/{view_id}/tickets")
async def list_view_tickets(
    view_id: ResourceId,
    session: DB,
    principal: Agent,
    now: Now,
    include: Annotated[str | None, Query(max_length=100, description=INCLUDE_DESCRIPTION)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TicketPage:
    """The view's tickets in its `sort`, keyset-paginated like `/v1/tickets`, through the
    caller's ticket visibility (`"me"` and `"mine"` are the caller)."""
    kinds = parse_include(include)
    view = await service.get_view(session, principal, view_id)
    tickets, next_cursor = await service.view_tickets(
        session, principal, view, now=now, limit=limit, cursor=cursor
    )
    page = TicketPage(data=await present(session, principal, tickets), next_cursor=next_cursor)
    return page.model_copy(update=dict(await included(session, principal, tickets, kinds)))
