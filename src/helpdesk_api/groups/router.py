from fastapi import APIRouter

from helpdesk_api.core.db import TransactionalRoute

router = APIRouter(prefix="/v1/groups", tags=["groups"], route_class=TransactionalRoute)
