"""The floors' ticket lists and search: GET /v1/tickets for an admin, the service's statements
one for one (bench/floor_sql.py says how they are kept in step), the same page and cursor."""

import base64
import json
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.floor_sql import (
    EXPECTED_FIRST_REPLY_COLUMN,
    FIRST_REPLY,
    TS,
    Invalid,
    Request,
    ticket_json,
)

PAGE = 50
SEARCH_PROBE_LIMIT = 2000  # helpdesk_api.tickets.listing.SEARCH_PROBE_LIMIT
SEARCH_PROBE_SQL = "SELECT ticket_search_probe($1::VARCHAR, $2::INTEGER) AS ticket_search_probe_1"
# What a page selects, in the service's order (helpdesk_api.tickets.listing._PAGE_COLUMNS).
PAGE_COLUMNS = [
    "id", "status_id", "priority_rank", "sla_next_breach_at", "subject", "requester_id",
    "submitter_id", "assignee_id", "group_id", "organization_id", "priority", "impact",
    "urgency", "type", "due_at", "channel", "tags", "required_skills", "external_id",
    "comment_count", "created_at", "updated_at", "status_changed_at", "solved_at",
    "first_agent_reply_at", "merged_into_id", "product_id", "asset_id", "satisfaction_score",
    "custom_fields",
]  # fmt: skip
SELECT_PAGE = (
    f"SELECT {', '.join(f'tickets.{c}' for c in PAGE_COLUMNS)}, {EXPECTED_FIRST_REPLY_COLUMN} "
    "FROM tickets"
)
SORTS = {
    "-updated_at": ("updated_at", "DESC"),
    "updated_at": ("updated_at", "ASC"),
    "sla_breach_at": ("sla_next_breach_at", "ASC"),
    "-sla_breach_at": ("sla_next_breach_at", "DESC"),
}


def _cursor(ordering: str, values: list[Any]) -> str:
    """helpdesk_api.core.pagination.encode_cursor."""
    plain = [{"dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = json.dumps({"o": ordering, "v": plain}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def statement(
    query: dict[str, str], now: datetime, search_hits: list[int] | None = None
) -> tuple[str, list[Any]]:
    """The page's SQL and arguments for the filters the bench sends, numbered as SQLAlchemy
    numbers them ($1, $2: the expected-first-reply column; an IN list's values come last)."""
    sort = query.get("sort", "-updated_at")
    if sort not in SORTS:
        raise Invalid(f"sort {sort}")
    conditions: list[str] = []
    args: list[Any] = [FIRST_REPLY, 1]
    expanding: list[Any] = []
    known = {"sort", "status_category", "assignee_id", "group_id", "tag", "q", "sla_status"}
    if set(query) - known:
        raise Invalid(f"the floor lists by {sorted(known)} only, not {sorted(query)}")
    if "status_category" in query:
        expanding.append(query["status_category"])
        conditions.append("tickets.status_category IN (${expanding}::VARCHAR)")
    if "assignee_id" in query:
        if query["assignee_id"] == "none":
            conditions.append("tickets.assignee_id IS NULL")
        else:
            args.append(int(query["assignee_id"]))
            conditions.append(f"tickets.assignee_id = ${len(args)}::BIGINT")
    if "group_id" in query:
        args.append(int(query["group_id"]))
        conditions.append(f"tickets.group_id = ${len(args)}::BIGINT")
    if "tag" in query:
        args.append([query["tag"]])
        conditions.append(f"tickets.tags @> ${len(args)}::VARCHAR(100)[]")
    if "q" in query:
        args += ["simple", query["q"]]
        conditions.append(
            f"tickets.search_document @@ websearch_to_tsquery(${len(args) - 1}::REGCONFIG, "
            f"${len(args)}::VARCHAR)"
        )
    if search_hits is not None:
        args.append(search_hits)
        conditions.append(f"tickets.id = ANY (${len(args)}::BIGINT[])")
    if query.get("sla_status") == "breached":
        args.append(now)
        conditions.append(f"tickets.sla_next_breach_at <= ${len(args)}::{TS}")
    elif "sla_status" in query:
        raise Invalid("the floor lists sla_status=breached only")
    column, direction = SORTS[sort]
    if column == "sla_next_breach_at":
        conditions.append("tickets.sla_next_breach_at IS NOT NULL")
    args.append(PAGE + 1)
    limit = len(args)
    if expanding:
        args += expanding
        conditions = [c.replace("${expanding}", f"${limit + 1}") for c in conditions]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    sql = (
        f"{SELECT_PAGE}{where} ORDER BY tickets.{column} {direction}, tickets.id {direction} "
        f"LIMIT ${limit}::INTEGER"
    )
    return sql, args


async def list_tickets(
    conn: asyncpg.Connection, token_hash: bytes, query: dict[str, str]
) -> dict[str, Any]:
    """GET /v1/tickets?... for an admin: one page of 50 and the cursor to the next."""
    r = Request(conn, datetime.now(UTC))
    await r.begin(token_hash)
    try:
        hits = None
        if "q" in query:
            # helpdesk_api.tickets.listing._search_bounds
            await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            hits = await conn.fetchval(SEARCH_PROBE_SQL, query["q"], SEARCH_PROBE_LIMIT)
            if hits is not None and len(hits) >= SEARCH_PROBE_LIMIT:
                hits = None
        sql, args = statement(query, r.now, hits)
        rows = await conn.fetch(sql, *args)
        more = len(rows) > PAGE
        rows = rows[:PAGE]
        # The service reads the statuses to present a page even when it is empty.
        statuses = await r.all_statuses()
        data = [
            ticket_json(row, statuses[row["status_id"]], row["expected_first_reply_at"])
            for row in rows
        ]
        await r.commit()
    except BaseException:
        await r.rollback()
        raise
    next_cursor = None
    if more:
        sort = query.get("sort", "-updated_at")
        column = SORTS[sort][0]
        next_cursor = _cursor(f"tickets:{sort}", [rows[-1][column], rows[-1]["id"]])
    return {"data": data, "next_cursor": next_cursor}
