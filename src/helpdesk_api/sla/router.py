from fastapi import APIRouter

from helpdesk_api.core.db import TransactionalRoute

router = APIRouter(prefix="/v1", tags=["sla"], route_class=TransactionalRoute)
