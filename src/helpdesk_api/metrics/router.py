"""``GET /metrics``: Prometheus text format, for the bearer of HELPDESK_METRICS_TOKEN only."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from helpdesk_api.core.errors import NotFound, Unauthorized
from helpdesk_api.core.metrics import render
from helpdesk_api.metrics.backlog import read_backlog

# Not an API resource: kept out of the OpenAPI document and its generated clients.
router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Response:
    expected: str | None = request.app.state.settings.metrics_token
    if expected is None:
        # Off unless configured: answered like any path that does not exist.
        raise NotFound(f"No route matches GET {request.url.path}.")
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        presented.strip().encode(), expected.encode()
    ):
        raise Unauthorized("/metrics needs the bearer token set in HELPDESK_METRICS_TOKEN.")
    backlog = await read_backlog(request.app.state.sessionmaker)
    return Response(render(backlog), media_type=CONTENT_TYPE_LATEST)
