"""The service's own SQL, statement for statement, run with raw asyncpg.

Captured with `log_statement = all` on the service (see bench/README.md, "Floors"); last
captured at 21:58 UTC on 22 Nov 2026, after SLAs landed. Both floors run these functions: the
framework floor behind a bare FastAPI route, the database floor with no HTTP at all. The
statements mirror the service's exactly, including the round trips the ORM adds (the
identities and attachments loads, the status read twice, the SLA lookups), so each ratio
isolates what the Python layers cost, not a different query plan. Re-capture them whenever
the service's create or read path changes.
"""

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg

TOKEN_SQL = (
    "SELECT api_tokens.id, api_tokens.last_used_at, users.name, users.role, users.is_active, "
    "users.password_hash, users.ticket_access, users.locale, users.time_zone, users.notes, "
    "users.organization_id, users.tags, users.version, users.id AS id_1, users.created_at, "
    "users.updated_at FROM api_tokens JOIN users ON users.id = api_tokens.user_id "
    "WHERE api_tokens.token_hash = $1::BYTEA AND api_tokens.revoked_at IS NULL "
    "AND users.is_active IS true"
)
_USER_COLUMNS = (
    "users.name, users.role, users.is_active, users.password_hash, users.ticket_access, "
    "users.locale, users.time_zone, users.notes, users.organization_id, users.tags, "
    "users.version, users.id, users.created_at, users.updated_at"
)
USER_BY_IDENTITY_SQL = (
    f"SELECT {_USER_COLUMNS} FROM users JOIN user_identities ON user_identities.user_id = users.id "
    "WHERE user_identities.kind = $1::VARCHAR AND user_identities.value = $2::VARCHAR"
)
IDENTITIES_SQL = (
    "SELECT user_identities.user_id, user_identities.kind, user_identities.value, "
    "user_identities.is_primary, user_identities.verified, user_identities.created_at, "
    "user_identities.id FROM user_identities WHERE user_identities.user_id IN ($1::BIGINT) "
    "ORDER BY user_identities.id"
)
_STATUS_COLUMNS = (
    "ticket_statuses.category, ticket_statuses.agent_label, ticket_statuses.customer_label, "
    "ticket_statuses.description, ticket_statuses.is_default, ticket_statuses.is_active, "
    "ticket_statuses.position, ticket_statuses.version, ticket_statuses.id, "
    "ticket_statuses.created_at, ticket_statuses.updated_at"
)
DEFAULT_STATUS_SQL = (
    f"SELECT {_STATUS_COLUMNS} FROM ticket_statuses "
    "WHERE ticket_statuses.category = $1::VARCHAR AND ticket_statuses.is_default"
)
STATUS_BY_ID_SQL = (
    f"SELECT {_STATUS_COLUMNS} FROM ticket_statuses WHERE ticket_statuses.id IN ($1::BIGINT)"
)
INSERT_TICKET_SQL = (
    "INSERT INTO tickets (subject, requester_id, submitter_id, assignee_id, group_id, "
    "organization_id, status_id, status_category, priority, priority_rank, impact, urgency, "
    "type, due_at, channel, tags, external_id, is_public, created_at, updated_at, "
    "status_changed_at, solved_at, first_agent_reply_at, last_public_comment_at, "
    "comment_count, sla_next_breach_at, version, merged_into_id) VALUES ($1::VARCHAR, "
    "$2::BIGINT, $3::BIGINT, $4::BIGINT, $5::BIGINT, $6::BIGINT, $7::BIGINT, $8::VARCHAR, "
    "$9::VARCHAR, $10::SMALLINT, $11::VARCHAR, $12::VARCHAR, $13::VARCHAR, "
    "$14::TIMESTAMP WITH TIME ZONE, $15::VARCHAR, $16::VARCHAR(100)[], $17::VARCHAR, "
    "$18::BOOLEAN, $19::TIMESTAMP WITH TIME ZONE, $20::TIMESTAMP WITH TIME ZONE, "
    "$21::TIMESTAMP WITH TIME ZONE, $22::TIMESTAMP WITH TIME ZONE, "
    "$23::TIMESTAMP WITH TIME ZONE, $24::TIMESTAMP WITH TIME ZONE, $25::BIGINT, "
    "$26::TIMESTAMP WITH TIME ZONE, $27::BIGINT, $28::BIGINT) "
    "RETURNING tickets.subject_search, tickets.id"
)
TAG_COUNT_SQL = (
    "INSERT INTO tag_counts (tag, ticket_count) VALUES ($1::VARCHAR, $2::BIGINT) "
    "ON CONFLICT (tag) DO UPDATE SET ticket_count = (tag_counts.ticket_count + $3::BIGINT)"
)
INSERT_COMMENT_SQL = (
    "INSERT INTO ticket_comments (ticket_id, author_id, body, html_body, is_public, via, "
    "created_at) VALUES ($1::BIGINT, $2::BIGINT, $3::VARCHAR, $4::VARCHAR, $5::BOOLEAN, "
    "$6::VARCHAR, $7::TIMESTAMP WITH TIME ZONE) RETURNING ticket_comments.search, "
    "ticket_comments.id"
)
ATTACHMENTS_SQL = (
    "SELECT attachments.uploader_id, attachments.ticket_id, attachments.comment_id, "
    "attachments.filename, attachments.content_type, attachments.size, attachments.sha256, "
    "attachments.storage_key, attachments.is_inline, attachments.created_at, attachments.id "
    "FROM attachments WHERE attachments.comment_id IN ($1::BIGINT) "
    "ORDER BY attachments.comment_id, attachments.id"
)
INSERT_EVENT_SQL = (
    "INSERT INTO events (type, actor_id, actor_via, ticket_id, is_public, data) VALUES "
    "($1::VARCHAR, $2::BIGINT, $3::VARCHAR, $4::BIGINT, $5::BOOLEAN, $6::JSONB) "
    "RETURNING events.id"
)
INSERT_AUDIT_SQL = (
    "INSERT INTO ticket_audits (ticket_id, actor_id, via, changes, comment_id) VALUES "
    "($1::BIGINT, $2::BIGINT, $3::VARCHAR, $4::JSONB, $5::BIGINT) RETURNING ticket_audits.id"
)
SELECT_TICKET_SQL = (
    "SELECT tickets.subject, tickets.requester_id, tickets.submitter_id, tickets.assignee_id, "
    "tickets.group_id, tickets.organization_id, tickets.status_id, tickets.status_category, "
    "tickets.priority, tickets.priority_rank, tickets.impact, tickets.urgency, tickets.type, "
    "tickets.due_at, tickets.channel, tickets.tags, tickets.external_id, tickets.is_public, "
    "tickets.created_at, tickets.updated_at, tickets.status_changed_at, tickets.solved_at, "
    "tickets.first_agent_reply_at, tickets.last_public_comment_at, tickets.comment_count, "
    "tickets.sla_next_breach_at, tickets.version, tickets.merged_into_id, tickets.id "
    "FROM tickets WHERE tickets.id = $1::BIGINT"
)
SLA_METRICS_FOR_UPDATE_SQL = (
    "SELECT ticket_sla_metrics.ticket_id, ticket_sla_metrics.metric, ticket_sla_metrics.cycle, "
    "ticket_sla_metrics.policy_id, ticket_sla_metrics.target_minutes, "
    "ticket_sla_metrics.business_hours, ticket_sla_metrics.pause_on, ticket_sla_metrics.status, "
    "ticket_sla_metrics.started_at, ticket_sla_metrics.paused_at, "
    "ticket_sla_metrics.paused_total, ticket_sla_metrics.breach_at, "
    "ticket_sla_metrics.warning_at, ticket_sla_metrics.achieved_at, "
    "ticket_sla_metrics.breached_at, ticket_sla_metrics.warned, "
    "ticket_sla_metrics.breach_notified, ticket_sla_metrics.due_at, ticket_sla_metrics.id "
    "FROM ticket_sla_metrics WHERE ticket_sla_metrics.ticket_id = $1::BIGINT "
    "ORDER BY ticket_sla_metrics.cycle, ticket_sla_metrics.id FOR UPDATE"
)
SLA_POLICIES_SQL = (
    "SELECT sla_policies.name, sla_policies.description, sla_policies.position, "
    "sla_policies.calendar_id, sla_policies.conditions, sla_policies.is_active, "
    "sla_policies.version, sla_policies.id, sla_policies.created_at, sla_policies.updated_at "
    "FROM sla_policies WHERE sla_policies.is_active IS true "
    "ORDER BY sla_policies.position, sla_policies.id"
)
EXPECTED_REPLY_SQL = (
    "SELECT ticket_sla_metrics.ticket_id, ticket_sla_metrics.breach_at "
    "FROM ticket_sla_metrics WHERE ticket_sla_metrics.ticket_id IN ($2::BIGINT) "
    "AND ticket_sla_metrics.metric = $1::VARCHAR AND ticket_sla_metrics.achieved_at IS NULL "
    "AND ticket_sla_metrics.breach_at IS NOT NULL"
)
PRIORITY_RANK = {"low": 1, "normal": 2, "high": 3, "urgent": 4}


class Unauthorized(Exception):
    pass


class NotFound(Exception):
    pass


def _ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _begin(conn: asyncpg.Connection) -> None:
    await conn.execute("BEGIN")


async def _principal(conn: asyncpg.Connection, token_hash: bytes) -> asyncpg.Record:
    row = await conn.fetchrow(TOKEN_SQL, token_hash)
    if row is None:
        raise Unauthorized
    return row


def ticket_json(
    t: dict[str, Any], status: asyncpg.Record, expected_first_reply_at: datetime | None = None
) -> dict[str, Any]:
    return {
        "id": t["id"],
        "subject": t["subject"],
        "requester_id": t["requester_id"],
        "submitter_id": t["submitter_id"],
        "assignee_id": t["assignee_id"],
        "group_id": t["group_id"],
        "organization_id": t["organization_id"],
        "status": {
            "id": status["id"],
            "category": status["category"],
            "label": status["agent_label"],
        },
        "priority": t["priority"],
        "impact": t["impact"],
        "urgency": t["urgency"],
        "type": t["type"],
        "due_at": _ts(t["due_at"]),
        "channel": t["channel"],
        "tags": list(t["tags"]),
        "external_id": t["external_id"],
        "comment_count": t["comment_count"],
        "created_at": _ts(t["created_at"]),
        "updated_at": _ts(t["updated_at"]),
        "status_changed_at": _ts(t["status_changed_at"]),
        "solved_at": _ts(t["solved_at"]),
        "first_agent_reply_at": _ts(t["first_agent_reply_at"]),
        "merged_into_id": t["merged_into_id"],
        "expected_first_reply_at": _ts(expected_first_reply_at),
    }


async def create_ticket(
    conn: asyncpg.Connection, token_hash: bytes, body: dict[str, Any]
) -> dict[str, Any]:
    """POST /v1/tickets for an agent naming an existing requester by e-mail."""
    now = datetime.now(UTC)
    await _begin(conn)
    try:
        principal = await _principal(conn, token_hash)
        actor_id = principal["id_1"]
        requester = await conn.fetchrow(USER_BY_IDENTITY_SQL, "email", body["requester"]["email"])
        if requester is None:
            raise NotFound  # the bench only names requesters it created beforehand
        await conn.fetch(IDENTITIES_SQL, requester["id"])
        status = await conn.fetchrow(DEFAULT_STATUS_SQL, "new")
        priority = body.get("priority") or "normal"
        tags = sorted(set(body.get("tags", [])))
        t: dict[str, Any] = {
            "subject": body["subject"],
            "requester_id": requester["id"],
            "submitter_id": actor_id,
            "assignee_id": None,
            "group_id": body.get("group_id"),
            "organization_id": requester["organization_id"],
            "status_id": status["id"],
            "status_category": status["category"],
            "priority": priority,
            "impact": None,
            "urgency": None,
            "type": None,
            "due_at": None,
            "channel": "api",
            "tags": tags,
            "external_id": None,
            "comment_count": 1,
            "created_at": now,
            "updated_at": now,
            "status_changed_at": now,
            "solved_at": None,
            "first_agent_reply_at": None,
            "merged_into_id": None,
        }
        row = await conn.fetchrow(
            INSERT_TICKET_SQL,
            t["subject"], t["requester_id"], actor_id, None, t["group_id"],
            t["organization_id"], t["status_id"], t["status_category"], priority,
            PRIORITY_RANK[priority], None, None, None, None, "api", tags, None, True,
            now, now, now, None, None, now, 1, None, 1, None,
        )  # fmt: skip
        t["id"] = row["id"]
        for tag in tags:
            await conn.execute(TAG_COUNT_SQL, tag, 1, 1)
        comment_body = body["comment"]["body"]
        comment_id = (
            await conn.fetchrow(
                INSERT_COMMENT_SQL, t["id"], actor_id, comment_body, None, True, "api", now
            )
        )["id"]
        await conn.fetch(ATTACHMENTS_SQL, comment_id)
        comment = {
            "id": comment_id, "via": "api", "body": comment_body, "public": True,
            "author_id": actor_id, "html_body": None, "ticket_id": t["id"],
            "created_at": _ts(now), "attachments": [],
        }  # fmt: skip
        await conn.fetchrow(
            INSERT_EVENT_SQL, "comment.created", actor_id, "api", t["id"], True,
            json.dumps({"public": True, "comment": comment}),
        )  # fmt: skip
        changes = [
            {"to": t["subject"], "from": None, "field": "subject"},
            {"to": t["requester_id"], "from": None, "field": "requester_id"},
            {"to": priority, "from": None, "field": "priority"},
            {"to": "api", "from": None, "field": "channel"},
            {"to": tags, "from": None, "field": "tags"},
            {"to": {"id": status["id"], "category": status["category"]}, "from": None,
             "field": "status"},
            {"to": {"id": comment_id, "public": True}, "from": None, "field": "comment"},
        ]  # fmt: skip
        await conn.fetchrow(
            INSERT_AUDIT_SQL, t["id"], actor_id, "api", json.dumps(changes), comment_id
        )
        # The SLA hook: the ticket's metrics (locked), then the active policies.
        await conn.fetch(SLA_METRICS_FOR_UPDATE_SQL, t["id"])
        await conn.fetch(SLA_POLICIES_SQL)
        status = await conn.fetchrow(STATUS_BY_ID_SQL, t["status_id"])
        expected = await conn.fetchrow(EXPECTED_REPLY_SQL, "first_reply", t["id"])
        result = ticket_json(t, status, expected["breach_at"] if expected else None)
        await conn.fetchrow(
            INSERT_EVENT_SQL, "ticket.created", actor_id, "api", t["id"], True,
            json.dumps({"ticket": result}),
        )  # fmt: skip
        await conn.fetchrow(STATUS_BY_ID_SQL, t["status_id"])
        await conn.fetchrow(EXPECTED_REPLY_SQL, "first_reply", t["id"])
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    return result


async def read_ticket(
    conn: asyncpg.Connection, token_hash: bytes, ticket_id: int
) -> dict[str, Any]:
    """GET /v1/tickets/{id} for an admin (ticket_access all: no visibility condition)."""
    await _begin(conn)
    try:
        await _principal(conn, token_hash)
        row = await conn.fetchrow(SELECT_TICKET_SQL, ticket_id)
        if row is None:
            raise NotFound
        status = await conn.fetchrow(STATUS_BY_ID_SQL, row["status_id"])
        expected = await conn.fetchrow(EXPECTED_REPLY_SQL, "first_reply", ticket_id)
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    return ticket_json(dict(row), status, expected["breach_at"] if expected else None)
