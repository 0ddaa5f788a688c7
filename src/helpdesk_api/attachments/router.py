from fastapi import APIRouter

from helpdesk_api.core.db import TransactionalRoute

router = APIRouter(prefix="/v1/attachments", tags=["attachments"], route_class=TransactionalRoute)
