"""``/v1/ticket-fields``, ``/v1/user-fields`` and ``/v1/organization-fields``: one set of
routes per kind, built by one function so the three cannot drift apart. Admins write, staff
read; there is no DELETE: deactivate a field (`active: false`) and its values stay readable."""

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

from fastapi import APIRouter, Response, status

from helpdesk_api.core.auth import Admin, Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.fields import service
from helpdesk_api.fields.schemas import (
    CustomFieldCreate,
    CustomFieldPage,
    CustomFieldRead,
    CustomFieldUpdate,
)
from helpdesk_api.models import FieldEntity

router = APIRouter(prefix="/v1", route_class=TransactionalRoute)

_VALUES_ON = {
    FieldEntity.ticket: "tickets (`custom_fields` on create, update and reads)",
    FieldEntity.user: "users (`custom_fields` on create, update and reads)",
    FieldEntity.organization: "organisations (`custom_fields` on create, update and reads)",
}


def _routes(entity: FieldEntity) -> None:
    resource = service.RESOURCES[entity]
    path, name = resource.path.removeprefix("/v1"), f"{entity.value}_fields"
    single = f"{entity.value}_field"
    tags: list[str | Enum] = [path.strip("/")]

    async def list_fields(
        session: DB,
        principal: Staff,
        active: bool | None = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> CustomFieldPage:
        fields, next_cursor = await service.list_fields(
            session, entity, active=active, limit=limit, cursor=cursor
        )
        return CustomFieldPage(data=[service.to_read(f) for f in fields], next_cursor=next_cursor)

    async def create_field(
        data: CustomFieldCreate, session: DB, principal: Admin, response: Response
    ) -> CustomFieldRead:
        created = await service.create_field(session, principal, entity, data)
        resource.set_created(response, created)
        return service.to_read(created)

    async def get_field(
        field_id: ResourceId, session: DB, principal: Staff, response: Response
    ) -> CustomFieldRead:
        found = await service.get_field(session, entity, field_id)
        resource.set_etag(response, found)
        return service.to_read(found)

    async def update_field(
        field_id: ResourceId,
        data: CustomFieldUpdate,
        session: DB,
        principal: Admin,
        response: Response,
        if_match: IfMatch = None,
    ) -> CustomFieldRead:
        found = await service.get_for_write(session, entity, field_id, if_match)
        updated = await service.update_field(session, principal, found, data)
        resource.set_etag(response, updated)
        return service.to_read(updated)

    def add(
        method: str, route: str, handler: Callable[..., Awaitable[Any]], op: str, doc: str,
        **extra: Any,
    ) -> None:  # fmt: skip
        router.add_api_route(
            route, handler, methods=[method], name=op, tags=tags, description=doc, **extra
        )

    where = _VALUES_ON[entity]
    add("GET", path, list_fields, f"list_{name}", f"The {entity} fields by `position`, then id. "
        "Staff only.")  # fmt: skip
    add("POST", path, create_field, f"create_{single}",
        f"Defines a field whose values live on {where}. Admins only. A key already used by "
        "another field of this kind is a 409.",
        status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])  # fmt: skip
    add("GET", f"{path}/{{field_id}}", get_field, f"get_{single}", "Staff only.")
    add("PATCH", f"{path}/{{field_id}}", update_field, f"update_{single}",
        "Admins only; `key` and `type` cannot change. `active: false` retires the field: "
        "values already stored stay readable and audited history stays as it was.")  # fmt: skip


for _entity in FieldEntity:
    _routes(_entity)
