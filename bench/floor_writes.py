"""The floors' writes: create a ticket, add a comment, change a ticket's status, with the
service's statements one for one (bench/floor_sql.py says how they are kept in step)."""

from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.floor_sla import Clocks, on_create
from bench.floor_sql import (
    FIRST_REPLY,
    INSERT_TICKET_SQL,
    PRIORITY_RANK,
    SELECT_TICKET_FOR_UPDATE_SQL,
    STATUS_FOR_KEY_SHARE_SQL,
    TAG_COUNTS_SQL,
    TICKET_COLUMNS,
    USER_BY_IDENTITY_SQL,
    Invalid,
    NotFound,
    Request,
    comment_json,
    insert_audit,
    insert_comment,
    ticket_json,
)

STOPPED = ("solved", "closed")


async def create_ticket(
    conn: asyncpg.Connection, token_hash: bytes, body: dict[str, Any]
) -> dict[str, Any]:
    """POST /v1/tickets for an agent naming an existing requester by e-mail."""
    r = Request(conn, datetime.now(UTC))
    await r.begin(token_hash)
    try:
        requester = await conn.fetchrow(USER_BY_IDENTITY_SQL, "email", body["requester"]["email"])
        if requester is None:
            raise NotFound  # the bench only names requesters it created beforehand
        status = await r.default_status("new")
        priority = body.get("priority") or "normal"
        tags = list(dict.fromkeys(body.get("tags", [])))
        now = r.now
        t: dict[str, Any] = {
            "subject": body["subject"], "requester_id": requester["id"],
            "submitter_id": r.actor_id, "assignee_id": None, "group_id": body.get("group_id"),
            "organization_id": requester["organization_id"], "status_id": status["id"],
            "status_category": status["category"], "priority": priority,
            "priority_rank": PRIORITY_RANK[priority], "impact": None, "urgency": None,
            "type": None, "due_at": None, "channel": "api", "tags": tags, "external_id": None,
            "is_public": True, "created_at": now, "updated_at": now, "status_changed_at": now,
            "solved_at": None, "first_agent_reply_at": None, "last_public_comment_at": now,
            "comment_count": 1, "sla_next_breach_at": None, "version": 1,
            "merged_into_id": None,
        }  # fmt: skip
        row = await conn.fetchrow(INSERT_TICKET_SQL, *t.values())
        t["id"] = row["id"]
        if tags:
            await conn.execute(TAG_COUNTS_SQL, sorted(tags), [1] * len(tags))
        comment = await insert_comment(r, t["id"], body["comment"]["body"], public=True)
        changes = [
            {"to": t["subject"], "from": None, "field": "subject"},
            {"to": t["requester_id"], "from": None, "field": "requester_id"},
            {"to": priority, "from": None, "field": "priority"},
            {"to": "api", "from": None, "field": "channel"},
            *([{"to": tags, "from": None, "field": "tags"}] if tags else []),
            {"to": {"id": status["id"], "category": status["category"]}, "from": None,
             "field": "status"},
            {"to": {"id": comment["id"], "public": True}, "from": None, "field": "comment"},
        ]  # fmt: skip
        await insert_audit(r, t["id"], changes, comment["id"])
        expected = await on_create(r, t)
        result = ticket_json(t, status, expected)
        r.event("comment.created", t["id"], {"public": True, "comment": comment_json(comment)},
                public=True)  # fmt: skip
        r.event("ticket.created", t["id"], {"ticket": result}, public=True)
        await r.commit()
    except BaseException:
        await r.rollback()
        raise
    return result


class _Change:
    """A locked ticket and what this request changed on it (helpdesk_api.tickets.changes)."""

    def __init__(self, r: Request, row: asyncpg.Record) -> None:
        self.r = r
        self.ticket = dict(row)
        self.expected = row["expected_first_reply_at"]
        self.before = dict(row)
        self.changes: list[dict[str, Any]] = []
        self.comment: dict[str, Any] | None = None

    def set(self, name: str, value: Any) -> None:
        old = self.ticket[name]
        if old != value:
            self.ticket[name] = value
            plain = [v.isoformat() if isinstance(v, datetime) else v for v in (old, value)]
            self.changes.append({"field": name, "from": plain[0], "to": plain[1]})

    def set_status(self, status: asyncpg.Record) -> None:
        t = self.ticket
        if t["status_id"] == status["id"]:
            return
        self.changes.append({
            "field": "status",
            "from": {"id": t["status_id"], "category": t["status_category"]},
            "to": {"id": status["id"], "category": status["category"]},
        })  # fmt: skip
        leaving_solved = t["status_category"] == "solved"
        t["status_id"], t["status_category"] = status["id"], status["category"]
        t["status_changed_at"] = self.r.now
        if status["category"] == "solved":
            t["solved_at"] = self.r.now
        elif leaving_solved and status["category"] != "closed":
            t["solved_at"] = None

    async def flush(self) -> None:
        """The ORM's UPDATE: the columns that changed, in its order, and the version."""
        t = self.ticket
        changed = [c for c in TICKET_COLUMNS if c != "version" and t[c] != self.before[c]]
        if not changed:
            return
        t["version"] = self.before["version"] + 1
        columns = [*changed, "version"]
        if "sla_next_breach_at" in columns:
            columns.remove("sla_next_breach_at")  # written by the SLA hook, not the flush
        sets = ", ".join(f"{c}=${n}::{TICKET_COLUMNS[c]}" for n, c in enumerate(columns, 1))
        n = len(columns)
        await self.r.conn.execute(
            f"UPDATE tickets SET {sets} WHERE tickets.id = ${n + 1}::BIGINT "
            f"AND tickets.version = ${n + 2}::BIGINT",
            *(t[c] for c in columns), t["id"], self.before["version"],
        )  # fmt: skip
        self.before = dict(t)

    async def audit(self, *, reply: str | None) -> None:
        """The audit row, the SLA hook, the events (helpdesk_api.tickets.audit.write_audit)."""
        r, t = self.r, self.ticket
        comment_id = self.comment["id"] if self.comment else None
        await insert_audit(r, t["id"], self.changes, comment_id)
        moved = next((c for c in self.changes if c["field"] == "status"), None)
        category_moved = moved and moved["from"]["category"] != moved["to"]["category"]
        if category_moved or reply:
            clocks = Clocks(r, t)
            if await clocks.load():
                if reply == "agent":
                    clocks.agent_replied()
                if category_moved:
                    assert moved is not None
                    clocks.status_moved(moved["from"]["category"], moved["to"]["category"])
                self.expected = await clocks.save()
            else:
                self.expected = None
        status = await r.status(t["status_id"])
        data = ticket_json(t, status, self.expected)
        fields = [c for c in self.changes if c["field"] != "comment"]
        if fields:
            r.event("ticket.updated", t["id"], {"ticket": data, "changes": fields}, public=False)
            if moved:
                r.event("ticket.status_changed", t["id"], {"ticket": data, "changes": fields},
                        public=True)  # fmt: skip


async def _locked(r: Request, ticket_id: int) -> _Change:
    row = await r.conn.fetchrow(SELECT_TICKET_FOR_UPDATE_SQL, FIRST_REPLY, 1, ticket_id)
    if row is None:
        raise NotFound
    if row["status_category"] == "closed":
        raise Invalid("closed")
    return _Change(r, row)


async def _comment(change: _Change, body: str, public: bool) -> None:
    """helpdesk_api.conversations.service.add_comment for an admin's comment."""
    r, t = change.r, change.ticket
    change.comment = await insert_comment(r, t["id"], body, public=public)
    t["comment_count"] += 1
    t["updated_at"] = r.now
    if public:
        t["last_public_comment_at"] = r.now
        if t["first_agent_reply_at"] is None:
            change.set("first_agent_reply_at", r.now)
        if t["status_category"] == "new":
            change.set_status(await r.default_status("open"))
    change.changes.append(
        {"field": "comment", "from": None, "to": {"id": change.comment["id"], "public": public}}
    )
    r.event("comment.created", t["id"],
            {"public": public, "comment": comment_json(change.comment)}, public=public)  # fmt: skip


async def add_comment(
    conn: asyncpg.Connection, token_hash: bytes, ticket_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """POST /v1/tickets/{id}/comments by an admin: a public reply or a private note."""
    r = Request(conn, datetime.now(UTC))
    await r.begin(token_hash)
    try:
        change = await _locked(r, ticket_id)
        public = bool(body.get("public", True))
        await _comment(change, body["body"], public)
        await change.flush()
        await change.audit(reply="agent" if public else None)
        await r.commit()
    except BaseException:
        await r.rollback()
        raise
    assert change.comment is not None
    return comment_json(change.comment)


async def update_ticket(
    conn: asyncpg.Connection, token_hash: bytes, ticket_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """PATCH /v1/tickets/{id} by an admin moving the ticket to another status."""
    if set(body) != {"status_id"}:
        raise Invalid(f"the floor changes statuses only, not {sorted(body)}")
    r = Request(conn, datetime.now(UTC))
    await r.begin(token_hash)
    try:
        change = await _locked(r, ticket_id)
        status = await conn.fetchrow(STATUS_FOR_KEY_SHARE_SQL, body["status_id"])
        if status is None or not status["is_active"]:
            raise Invalid("status")
        change.set_status(status)
        if change.changes:
            change.ticket["updated_at"] = r.now
            await change.flush()
            await change.audit(reply=None)
        t = change.ticket
        result = ticket_json(t, await r.status(t["status_id"]), change.expected)
        await r.commit()
    except BaseException:
        await r.rollback()
        raise
    return result
