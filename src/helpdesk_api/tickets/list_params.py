"""The query parameters ``GET /v1/tickets`` and ``GET /v1/tickets/count`` share."""

from typing import Annotated

from fastapi import Query

from helpdesk_api.core.clock import Now
from helpdesk_api.core.params import Ids, Timestamp, parse_ids
from helpdesk_api.models import Channel, Priority, StatusCategory
from helpdesk_api.models import TicketType as TicketTypeEnum
from helpdesk_api.tickets.listing import SlaStatus, TicketFilters

_MAX_ID = 2**63 - 1


def ticket_filters(
    now: Now,
    status_category: Annotated[list[StatusCategory], Query()] = [],  # noqa: B006
    status_id: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
    assignee_id: Annotated[
        str | None, Query(max_length=20, description='A user id, "me" or "none".')
    ] = None,
    group_id: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
    requester_id: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
    organization_id: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
    product_id: Annotated[
        int | None, Query(ge=1, le=_MAX_ID, description="Staff only: tickets about it.")
    ] = None,
    tag: Annotated[
        list[str], Query(max_length=20, description="Repeatable; every tag must match.")
    ] = [],  # noqa: B006
    priority: Annotated[list[Priority], Query()] = [],  # noqa: B006
    type: TicketTypeEnum | None = None,
    channel: Channel | None = None,
    created_after: Timestamp | None = None,
    created_before: Timestamp | None = None,
    updated_after: Timestamp | None = None,
    updated_before: Timestamp | None = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description='Full text (web-search syntax: words, "phrases", -exclusions) over '
            "the subject and the comments together: every word must appear somewhere in the "
            "ticket. No stemming, so it works alike in every language. Customers search the "
            "subject and public replies only.",
        ),
    ] = None,
    sla_status: Annotated[
        SlaStatus | None,
        Query(
            description="Staff only. `breached`: a running SLA clock is past its deadline; "
            "`at_risk`: one has passed its warning point but not its deadline."
        ),
    ] = None,
    ids: Ids = None,
    external_id: Annotated[
        str | None, Query(min_length=1, max_length=255, description="Staff only.")
    ] = None,
    custom_field: Annotated[
        list[str],
        Query(
            max_length=10,
            description="Repeatable `key:value` (every one must hold): tickets whose ticket "
            "field `key` has that value, read as the field's type (`seats:5`, `vip:true`, "
            "`renewal:2026-03-01`); for a multiselect, tickets that selected that option. "
            "Customers may filter only by fields that are not agent-only.",
        ),
    ] = [],  # noqa: B006
) -> TicketFilters:
    return TicketFilters(
        status_category=status_category,
        status_id=status_id,
        assignee_id=assignee_id,
        group_id=group_id,
        requester_id=requester_id,
        organization_id=organization_id,
        product_id=product_id,
        tag=tuple(tag),
        priority=priority,
        type=type,
        channel=channel,
        created_after=created_after,
        created_before=created_before,
        updated_after=updated_after,
        updated_before=updated_before,
        q=q,
        sla_status=sla_status,
        ids=parse_ids(ids),
        external_id=external_id,
        now=now,
        custom_field=tuple(custom_field),
    )
