from fastapi import APIRouter

from helpdesk_api.core.db import TransactionalRoute

router = APIRouter(prefix="/v1", tags=["merging"], route_class=TransactionalRoute)
