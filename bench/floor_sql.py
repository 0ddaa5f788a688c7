"""The service's own SQL, statement for statement, run with raw asyncpg: the floors.

Captured with `log_statement = all` (`python -m bench.capture_sql`) and checked one for one
against the service, with the same JSON, by `python -m bench.capture_sql --check` (bench/
README.md, "Floors"). Both floors run these functions: the framework floor behind bare FastAPI
routes (bench/floor_app.py), the database floor with no HTTP at all (bench/loadgen.py). They
mirror the service's statements exactly, including the round trips the ORM adds and the SLA
clocks' arithmetic (the service's own pure functions, bench/floor_sla.py), so each ratio
isolates what the Python layers cost, not a different query plan. Re-capture and re-check
whenever the service's hot paths change.

This module: what every request shares (the token, statuses, a ticket's JSON, events), and
create and read; bench/floor_writes.py has comments and updates, bench/floor_lists.py lists
and search.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

TS = "TIMESTAMP WITH TIME ZONE"
TOKEN_SQL = (
    "SELECT api_tokens.id, api_tokens.last_used_at, api_tokens.expires_at, "
    "api_tokens.acts_for_requesters, users.id AS user_id, "
    "users.role, "
    "users.name, users.ticket_access, (SELECT coalesce(array_agg(group_memberships.group_id), "
    "$1::BIGINT[]) AS coalesce_1 FROM group_memberships "
    "WHERE group_memberships.user_id = users.id) AS group_ids, CASE WHEN "
    "organizations.shared_tickets THEN organizations.id END AS shared_organization_id "
    "FROM api_tokens JOIN users ON users.id = api_tokens.user_id LEFT OUTER JOIN organizations "
    "ON organizations.id = users.organization_id WHERE api_tokens.token_hash = $2::BYTEA "
    "AND api_tokens.revoked_at IS NULL AND users.is_active IS true"
)
TOKEN_TOUCH_SQL = (
    f"UPDATE api_tokens SET last_used_at=$1::{TS} WHERE api_tokens.id = $2::BIGINT AND "
    f"(api_tokens.last_used_at IS NULL OR api_tokens.last_used_at < $3::{TS})"
)
TOKEN_TOUCH_EVERY = timedelta(minutes=1)
_USER_COLUMNS = (
    "users.name, users.role, users.is_active, users.password_hash, users.ticket_access, "
    "users.locale, users.time_zone, users.notification_settings, users.notes, "
    "users.organization_id, users.tags, users.custom_fields, users.skills, users.availability, "
    "users.availability_changed_at, users.version, users.external_id, users.id, "
    "users.created_at, users.updated_at"
)
USER_BY_IDENTITY_SQL = (
    f"SELECT {_USER_COLUMNS} FROM users JOIN user_identities ON user_identities.user_id = users.id "
    "WHERE user_identities.kind = $1::VARCHAR AND user_identities.value = $2::VARCHAR"
)
_STATUS_COLUMNS = (
    "ticket_statuses.category, ticket_statuses.agent_label, ticket_statuses.customer_label, "
    "ticket_statuses.description, ticket_statuses.is_default, ticket_statuses.is_active, "
    "ticket_statuses.notify_requester, ticket_statuses.position, ticket_statuses.version, "
    "ticket_statuses.id, ticket_statuses.created_at, ticket_statuses.updated_at"
)
STATUSES_SQL = f"SELECT {_STATUS_COLUMNS} FROM ticket_statuses"
STATUS_FOR_KEY_SHARE_SQL = (
    f"SELECT {_STATUS_COLUMNS} FROM ticket_statuses WHERE ticket_statuses.id = $1::BIGINT "
    "FOR KEY SHARE"
)
# The ticket's columns in the mapper's order, and how each is bound when it changes.
TICKET_COLUMNS = {
    "subject": "VARCHAR", "requester_id": "BIGINT", "submitter_id": "BIGINT",
    "assignee_id": "BIGINT", "group_id": "BIGINT", "organization_id": "BIGINT",
    "status_id": "BIGINT", "status_category": "VARCHAR", "priority": "VARCHAR",
    "priority_rank": "SMALLINT", "impact": "VARCHAR", "urgency": "VARCHAR", "type": "VARCHAR",
    "due_at": TS, "channel": "VARCHAR", "tags": "VARCHAR(100)[]",
    "required_skills": "VARCHAR(100)[]", "external_id": "VARCHAR", "custom_fields": "JSONB",
    "locale": "VARCHAR", "email_channel_id": "BIGINT", "is_public": "BOOLEAN", "created_at": TS,
    "updated_at": TS, "status_changed_at": TS,
    "solved_at": TS, "first_agent_reply_at": TS, "last_public_comment_at": TS,
    "last_requester_reply_at": TS, "last_agent_reply_at": TS,
    "comment_count": "BIGINT", "satisfaction_score": "VARCHAR", "product_id": "BIGINT",
    "asset_id": "BIGINT", "sla_next_breach_at": TS,
    "version": "BIGINT",
    "merged_into_id": "BIGINT",
}  # fmt: skip
# Deferred in the mapper (only the automation sweep reads them): an INSERT names them and an
# UPDATE writes them when set (a public reply), but no ticket SELECT reads them.
DEFERRED_TICKET_COLUMNS = ("last_requester_reply_at", "last_agent_reply_at")
LOADED_TICKET_COLUMNS = [c for c in TICKET_COLUMNS if c not in DEFERRED_TICKET_COLUMNS]
EXPECTED_FIRST_REPLY_COLUMN = (
    "(SELECT ticket_sla_metrics.breach_at FROM ticket_sla_metrics "
    "WHERE ticket_sla_metrics.ticket_id = tickets.id AND ticket_sla_metrics.metric = $1::VARCHAR "
    "AND ticket_sla_metrics.achieved_at IS NULL AND ticket_sla_metrics.breach_at IS NOT NULL "
    "ORDER BY ticket_sla_metrics.cycle DESC LIMIT $2::INTEGER) AS expected_first_reply_at"
)
SELECT_TICKET_SQL = (
    f"SELECT {', '.join(f'tickets.{c}' for c in LOADED_TICKET_COLUMNS)}, tickets.id, "
    f"{EXPECTED_FIRST_REPLY_COLUMN} FROM tickets WHERE tickets.id = $3::BIGINT"
)
SELECT_TICKET_FOR_UPDATE_SQL = SELECT_TICKET_SQL + " FOR UPDATE OF tickets"
# The search documents go in as NULL: the BEFORE INSERT trigger writes them (migration 0006).
INSERT_TICKET_SQL = (
    f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}, search_document, "
    "public_search_document) VALUES ("
    + ", ".join(f"${n}::{t}" for n, t in enumerate(TICKET_COLUMNS.values(), 1))
    + f", ${len(TICKET_COLUMNS) + 1}, ${len(TICKET_COLUMNS) + 2}) RETURNING tickets.id"
)
# helpdesk_api.tickets.tagging: one statement for all tags, as the service writes it.
TAG_COUNTS_SQL = """
    WITH changes (tag, delta) AS (
        SELECT * FROM unnest(CAST($1 AS varchar[]), CAST($2 AS integer[]))
    )
    INSERT INTO tag_counts (tag, ticket_count)
    SELECT tag, greatest(delta, 0) FROM changes ORDER BY tag
    ON CONFLICT (tag) DO UPDATE SET ticket_count = tag_counts.ticket_count
        + (SELECT delta FROM changes WHERE changes.tag = excluded.tag)
"""
INSERT_COMMENT_SQL = (
    "INSERT INTO ticket_comments (ticket_id, author_id, body, html_body, is_public, via, "
    "source, created_at) VALUES ($1::BIGINT, $2::BIGINT, $3::VARCHAR, $4::VARCHAR, "
    f"$5::BOOLEAN, $6::VARCHAR, $7::JSONB, $8::{TS}) RETURNING ticket_comments.id"
)
# A merge's copy of a comment (helpdesk_api.tickets.comments.copy_history) leaves source unset,
# so the ORM's INSERT names no source column.
INSERT_COPY_SQL = (
    "INSERT INTO ticket_comments (ticket_id, author_id, body, html_body, is_public, via, "
    "created_at) VALUES ($1::BIGINT, $2::BIGINT, $3::VARCHAR, $4::VARCHAR, $5::BOOLEAN, "
    f"$6::VARCHAR, $7::{TS}) RETURNING ticket_comments.id"
)
INSERT_AUDIT_SQL = (
    "INSERT INTO ticket_audits (ticket_id, actor_id, via, changes, comment_id) VALUES "
    "($1::BIGINT, $2::BIGINT, $3::VARCHAR, $4::JSONB, $5::BIGINT) RETURNING ticket_audits.id"
)
EXPECTED_REPLIES_SQL = (
    "SELECT ticket_sla_metrics.ticket_id, ticket_sla_metrics.breach_at FROM ticket_sla_metrics "
    "WHERE ticket_sla_metrics.ticket_id IN ($2::BIGINT) AND ticket_sla_metrics.metric = "
    "$1::VARCHAR AND ticket_sla_metrics.achieved_at IS NULL "
    "AND ticket_sla_metrics.breach_at IS NOT NULL"
)
_EVENT_VALUES = "(${}::VARCHAR, ${}::BIGINT, ${}::VARCHAR, ${}::BIGINT, ${}::BOOLEAN, ${}::JSONB)"
PRIORITY_RANK = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
FIRST_REPLY = "first_reply"


class Unauthorized(Exception):
    pass


class NotFound(Exception):
    pass


class Invalid(Exception):
    """A request the service would refuse (the bench only sends valid ones)."""


def ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Request:
    """One transaction: the caller, the statuses (read once), the events to write at commit."""

    conn: asyncpg.Connection
    now: datetime
    actor_id: int = 0
    statuses: dict[int, asyncpg.Record] = field(default_factory=dict)
    events: list[tuple[Any, ...]] = field(default_factory=list)

    async def begin(self, token_hash: bytes) -> None:
        await self.conn.execute("BEGIN;")
        row = await self.conn.fetchrow(TOKEN_SQL, [], token_hash)
        if row is None:
            raise Unauthorized
        if row["expires_at"] is not None and row["expires_at"] <= self.now:
            raise Unauthorized
        stale_before = self.now - TOKEN_TOUCH_EVERY
        if row["last_used_at"] is None or row["last_used_at"] < stale_before:
            await self.conn.execute(TOKEN_TOUCH_SQL, self.now, row["id"], stale_before)
        self.actor_id = row["user_id"]

    async def all_statuses(self) -> dict[int, asyncpg.Record]:
        if not self.statuses:
            self.statuses = {s["id"]: s for s in await self.conn.fetch(STATUSES_SQL)}
        return self.statuses

    async def status(self, status_id: int) -> asyncpg.Record:
        return (await self.all_statuses())[status_id]

    async def default_status(self, category: str) -> asyncpg.Record:
        statuses = await self.all_statuses()
        return next(s for s in statuses.values() if s["category"] == category and s["is_default"])

    def event(
        self, kind: str, ticket_id: int, data: dict[str, Any], *, public: bool, via: str = "api"
    ) -> None:
        self.events.append((kind, self.actor_id, via, ticket_id, public, json.dumps(data)))

    async def commit(self) -> None:
        if self.events:
            values = ", ".join(
                _EVENT_VALUES.format(*range(6 * i + 1, 6 * i + 7)) for i in range(len(self.events))
            )
            await self.conn.execute(
                "INSERT INTO events (type, actor_id, actor_via, ticket_id, is_public, data) "
                f"VALUES {values}",
                *(value for row in self.events for value in row),
            )
        await self.conn.execute("COMMIT;")

    async def rollback(self) -> None:
        await self.conn.execute("ROLLBACK;")


def ticket_json(
    t: dict[str, Any] | asyncpg.Record,
    status: asyncpg.Record,
    expected_first_reply_at: datetime | None,
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
        "due_at": ts(t["due_at"]),
        "channel": t["channel"],
        "tags": list(t["tags"]),
        "required_skills": list(t["required_skills"]),
        "external_id": t["external_id"],
        "comment_count": t["comment_count"],
        "created_at": ts(t["created_at"]),
        "updated_at": ts(t["updated_at"]),
        "status_changed_at": ts(t["status_changed_at"]),
        "solved_at": ts(t["solved_at"]),
        "first_agent_reply_at": ts(t["first_agent_reply_at"]),
        "merged_into_id": t["merged_into_id"],
        "product_id": t["product_id"],
        "asset_id": t["asset_id"],
        "satisfaction_score": t["satisfaction_score"],
        "expected_first_reply_at": ts(expected_first_reply_at),
        # JSONB comes back from asyncpg as text (no codec is set).
        "custom_fields": json.loads(t["custom_fields"])
        if isinstance(t["custom_fields"], str)
        else t["custom_fields"],
        "view": "staff",
    }


def comment_json(comment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": comment["id"],
        "ticket_id": comment["ticket_id"],
        "author_id": comment["author_id"],
        "body": comment["body"],
        "html_body": comment["html_body"],
        "public": comment["is_public"],
        "via": comment["via"],
        "created_at": ts(comment["created_at"]),
        "attachments": [],
        "source": None,  # staff see where a comment came from: none through the API
    }


async def insert_comment(
    r: Request,
    ticket_id: int,
    body: str,
    *,
    public: bool,
    via: str = "api",
    author_id: int | None = None,
    created_at: datetime | None = None,
    copy: bool = False,
) -> dict[str, Any]:
    comment = {
        "ticket_id": ticket_id, "author_id": author_id or r.actor_id, "body": body,
        "html_body": None, "is_public": public, "via": via, "source": None,
        "created_at": created_at or r.now,
    }  # fmt: skip
    if copy:
        values = [v for k, v in comment.items() if k != "source"]
        comment["id"] = await r.conn.fetchval(INSERT_COPY_SQL, *values)
    else:
        # The ORM binds a None source as the JSON null ('null'), not SQL NULL, as JSONB does
        # unless none_as_null is set: the floor writes the same value.
        values = [json.dumps(v) if k == "source" else v for k, v in comment.items()]
        comment["id"] = await r.conn.fetchval(INSERT_COMMENT_SQL, *values)
    return comment


async def insert_audit(
    r: Request,
    ticket_id: int,
    changes: list[dict[str, Any]],
    comment_id: int | None,
    via: str = "api",
) -> None:
    await r.conn.fetchval(
        INSERT_AUDIT_SQL, ticket_id, r.actor_id, via, json.dumps(changes), comment_id
    )


TRIGGER_SET_VERSION_SQL = (
    "SELECT trigger_set_versions.version FROM trigger_set_versions "
    "WHERE trigger_set_versions.id = $1::BIGINT"
)
ACTIVE_TRIGGERS_SQL = (
    "SELECT triggers.id, triggers.position, triggers.title, triggers.rule FROM triggers "
    "WHERE triggers.is_active ORDER BY triggers.position, triggers.id"
)
# The default trigger migration 0012 seeds, as it seeds it: "Acknowledge new requests".
ACKNOWLEDGE_RULE = {
    "conditions": {
        "all": [
            {"field": "update_type", "operator": "is", "value": "created"},
            {"field": "actor_role", "operator": "is", "value": "customer"},
        ],
        "any": [],
    },
    "actions": [{"action": "notify", "recipient": "requester", "template": "acknowledgement"}],
}
# This process's trigger set, as automation.store.TriggerCache keeps it: (version, any active).
_trigger_set: list[tuple[int, bool] | None] = [None]


async def run_triggers(r: Request, ticket: dict[str, Any], comment_id: int | None) -> None:
    """helpdesk_api.automation.reaction at Stage.automation, on a desk whose only trigger is
    the default acknowledgement (or none): the set version, and the triggers when this
    process has not read that version. The acknowledgement wants a ticket a customer
    created, which the reaction tells from the change alone (``at_a_glance``); the floors'
    caller is an admin, so nothing more is read (no comment text, no requester or
    organisation facts) or written."""
    version = await r.conn.fetchval(TRIGGER_SET_VERSION_SQL, 1)
    if _trigger_set[0] is None or _trigger_set[0][0] != version:
        rows = await r.conn.fetch(ACTIVE_TRIGGERS_SQL)
        if any(json.loads(row["rule"]) != ACKNOWLEDGE_RULE for row in rows) or len(rows) > 1:
            raise RuntimeError("the floor mirrors a desk with the default acknowledgement only")
        _trigger_set[0] = (version, bool(rows))


_MAILBOX_COLUMNS = ", ".join(
    f"email_channels.{c}"
    for c in (
        "name", "address", "display_name", "group_id", "is_active", "acknowledge", "imap_host",
        "imap_port", "imap_security", "imap_username", "imap_password", "imap_folder",
        "imap_archive_folder", "imap_uid_validity", "imap_last_uid", "imap_checked_at",
        "imap_error", "created_at", "updated_at", "version", "id",
    )
)  # fmt: skip
SENDING_MAILBOX_SQL = (
    f"SELECT {_MAILBOX_COLUMNS} FROM email_channels WHERE email_channels.is_active "
    "ORDER BY CASE WHEN (email_channels.id = (SELECT tickets.email_channel_id FROM tickets "
    "WHERE tickets.id = $1::BIGINT)) THEN $2::INTEGER ELSE $3::INTEGER END, email_channels.id "
    "LIMIT $4::INTEGER"
)


# helpdesk_api.channels.replies at Stage.channels: an agent's public reply on a ticket of a
# conversation channel looks for the conversation, to send the reply back through it.
CONVERSATION_CHANNELS = frozenset({"chat", "phone", "telegram", "social"})
CONVERSATION_SQL = (
    "SELECT channel_conversations.ticket_id, channel_conversations.channel_id, "
    "channel_conversations.identity_kind, channel_conversations.identity_value, "
    "channel_conversations.reply_to, channel_conversations.last_message_at "
    "FROM channel_conversations WHERE channel_conversations.ticket_id = $1::BIGINT"
)


async def relay(r: Request, ticket: dict[str, Any]) -> None:
    """The channels stage: the floors mirror a desk whose tickets are no channel's
    conversation (the bench loads chat, phone, telegram and social tickets without one)."""
    if ticket["channel"] not in CONVERSATION_CHANNELS:
        return
    if await r.conn.fetchrow(CONVERSATION_SQL, ticket["id"]) is not None:
        raise RuntimeError("the floor mirrors tickets that are no channel's conversation")


async def notify(r: Request, ticket_id: int) -> None:
    """helpdesk_api.notifications.reactions at Stage.notification, once it has decided that
    someone is told (an agent's public reply, a status that notifies the requester, a new
    ticket in a group): the sending mailbox (mail.outgoing.sending_mailbox). The floors
    mirror a desk without mailboxes, where nothing more is rendered or queued."""
    if await r.conn.fetchrow(SENDING_MAILBOX_SQL, ticket_id, 0, 1, 1) is not None:
        raise RuntimeError("the floor mirrors a desk without mailboxes")


async def read_ticket(
    conn: asyncpg.Connection, token_hash: bytes, ticket_id: int
) -> dict[str, Any]:
    """GET /v1/tickets/{id} for an admin (ticket_access all: no visibility condition)."""
    r = Request(conn, datetime.now(UTC))
    await r.begin(token_hash)
    try:
        row = await conn.fetchrow(SELECT_TICKET_SQL, FIRST_REPLY, 1, ticket_id)
        if row is None:
            raise NotFound
        status = await r.status(row["status_id"])
        await r.commit()
    except BaseException:
        await r.rollback()
        raise
    return ticket_json(row, status, row["expected_first_reply_at"])
