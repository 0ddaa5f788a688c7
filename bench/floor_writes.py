"""The floors' writes: create a ticket, add a comment, change a ticket's status, with the
service's statements one for one (bench/floor_sql.py says how they are kept in step)."""

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.floor_metrics import metrics_on_change, metrics_on_create
from bench.floor_sla import Clocks, on_create
from bench.floor_sql import (
    EXPECTED_REPLIES_SQL,
    FIRST_REPLY,
    INSERT_TICKET_SQL,
    LOADED_TICKET_COLUMNS,
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
    notify,
    relay,
    run_triggers,
    ticket_json,
)

STOPPED = ("solved", "closed")
VIA = "merge"
_TICKET_LIST = ", ".join(f"tickets.{c}" for c in LOADED_TICKET_COLUMNS)
LOCK_SQL = (
    f"SELECT {_TICKET_LIST}, tickets.id FROM tickets WHERE tickets.id IN ({{ids}}) "
    "ORDER BY tickets.id FOR UPDATE"
)
SOURCE_COMMENTS_SQL = (
    "SELECT ticket_comments.ticket_id, ticket_comments.author_id, ticket_comments.body, "
    "ticket_comments.html_body, ticket_comments.is_public, ticket_comments.via, "
    "ticket_comments.source, ticket_comments.created_at, ticket_comments.id "
    "FROM ticket_comments WHERE ticket_comments.ticket_id IN ({ids}) "
    "ORDER BY ticket_comments.created_at, ticket_comments.id"
)
ATTACHMENTS_SQL = (
    "SELECT attachments.uploader_id, attachments.ticket_id, attachments.comment_id, "
    "attachments.filename, attachments.content_type, attachments.size, attachments.sha256, "
    "attachments.storage_key, attachments.is_inline, attachments.created_at, attachments.id "
    "FROM attachments WHERE attachments.comment_id IN ({ids}) ORDER BY attachments.id"
)
SOURCE_CCS_SQL = "SELECT ticket_ccs.user_id FROM ticket_ccs WHERE ticket_ccs.ticket_id IN ({ids})"
ACTIVE_USERS_SQL = (
    "SELECT users.id, users.role FROM users WHERE users.id IN ({ids}) "
    "AND users.is_active IS true ORDER BY users.id"
)
OWNED_ASSETS_SQL = (
    "SELECT assets.user_id, assets.product_id, assets.serial_number, assets.order_number, "
    "assets.purchase_date, assets.warranty_end, assets.external_id, assets.created_at, "
    "assets.updated_at, assets.version, assets.id, products.name, products.sku, "
    "products.category, products.is_active, products.created_at AS created_at_1, "
    "products.updated_at AS updated_at_1, products.version AS version_1, products.id AS id_1 "
    "FROM assets JOIN products ON products.id = assets.product_id "
    "WHERE assets.user_id = $1::BIGINT ORDER BY assets.id LIMIT $2::INTEGER"
)
REQUIRED_FIELDS_SQL = (
    "SELECT custom_fields.entity, custom_fields.key, custom_fields.title, custom_fields.type, "
    "custom_fields.options, custom_fields.pattern, custom_fields.required_for, "
    "custom_fields.agent_only, custom_fields.customer_title, custom_fields.position, "
    "custom_fields.is_active, custom_fields.version, custom_fields.id, "
    "custom_fields.created_at, custom_fields.updated_at FROM custom_fields "
    "WHERE custom_fields.entity = $1::VARCHAR AND custom_fields.is_active "
    "AND custom_fields.required_for @> $2::JSONB"
)
INSERT_CCS_SQL = (
    "INSERT INTO ticket_ccs (ticket_id, user_id, kind, created_by) VALUES {values} "
    "ON CONFLICT DO NOTHING RETURNING ticket_ccs.user_id"
)


async def create_ticket(
    conn: asyncpg.Connection, token_hash: bytes, body: dict[str, Any]
) -> dict[str, Any]:
    """POST /v1/tickets for an agent naming an existing requester by e-mail."""
    if body.get("group_id") is not None:
        # Routing would read the group (routing.reaction) and the notifier the mailbox.
        raise Invalid("the floor creates tickets without a group")
    r = Request(conn, datetime.now(UTC))
    await r.begin(token_hash)
    try:
        requester = await conn.fetchrow(USER_BY_IDENTITY_SQL, "email", body["requester"]["email"])
        if requester is None:
            raise NotFound  # the bench only names requesters it created beforehand
        status = await r.default_status("new")
        # The ticket fields a new ticket's category requires (tickets.custom_values).
        await conn.fetch(REQUIRED_FIELDS_SQL, "ticket", json.dumps([status["category"]]))
        priority = body.get("priority") or "normal"
        tags = list(dict.fromkeys(body.get("tags", [])))
        now = r.now
        t: dict[str, Any] = {
            "subject": body["subject"], "requester_id": requester["id"],
            "submitter_id": r.actor_id, "assignee_id": None, "group_id": body.get("group_id"),
            "organization_id": requester["organization_id"], "status_id": status["id"],
            "status_category": status["category"], "priority": priority,
            "priority_rank": PRIORITY_RANK[priority], "impact": None, "urgency": None,
            "type": None, "due_at": None, "channel": "api", "tags": tags, "required_skills": [],
            "external_id": None, "custom_fields": "{}",
            "locale": None, "email_channel_id": None, "is_public": True, "created_at": now,
            "updated_at": now, "status_changed_at": now,
            "solved_at": None, "first_agent_reply_at": None, "last_public_comment_at": now,
            "last_requester_reply_at": None, "last_agent_reply_at": None, "comment_count": 1,
            "satisfaction_score": None, "product_id": None, "asset_id": None,
            "sla_next_breach_at": None, "version": 1,
            "merged_into_id": None,
        }  # fmt: skip
        row = await conn.fetchrow(INSERT_TICKET_SQL, *t.values(), None, None)
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
        await run_triggers(r, t, comment["id"])
        expected = await on_create(r, t)
        await metrics_on_create(r, t)
        result = ticket_json(t, status, expected)
        r.event("comment.created", t["id"], {"public": True, "comment": comment_json(comment)},
                public=True)  # fmt: skip
        r.event("ticket.created", t["id"], {"ticket": result}, public=True)
        # Intake's auto-match (tickets.products): the bench's requesters own no assets.
        await conn.fetch(OWNED_ASSETS_SQL, requester["id"], 200)
        await r.commit()
    except BaseException:
        await r.rollback()
        raise
    return result


class _Change:
    """A locked ticket and what this request changed on it (helpdesk_api.tickets.changes)."""

    def __init__(self, r: Request, row: asyncpg.Record, via: str = "api") -> None:
        self.r, self.via = r, via
        self.ticket = dict(row)
        # The expected first reply, when the ticket's query brought it (a merge's lock does not).
        self.expected: datetime | None = self.ticket.get("expected_first_reply_at")
        self.expected_known = "expected_first_reply_at" in self.ticket
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
        # sla_next_breach_at is written by the SLA hook's own UPDATE, not by the flush. A
        # deferred column is not in the row read; set, it is written (the ORM's unloaded value).
        changed = {
            c for c in TICKET_COLUMNS
            if c not in ("version", "sla_next_breach_at") and c in t
            and (c not in self.before or t[c] != self.before[c])
        }  # fmt: skip
        if not changed:
            return
        t["version"] = self.before["version"] + 1
        columns = [c for c in TICKET_COLUMNS if c in changed or c == "version"]
        sets = ", ".join(f"{c}=${n}::{TICKET_COLUMNS[c]}" for n, c in enumerate(columns, 1))
        n = len(columns)
        await self.r.conn.execute(
            f"UPDATE tickets SET {sets} WHERE tickets.id = ${n + 1}::BIGINT "
            f"AND tickets.version = ${n + 2}::BIGINT",
            *(t[c] for c in columns), t["id"], self.before["version"],
        )  # fmt: skip
        self.before = dict(t)

    async def audit(self, *, reply: str | None) -> None:
        """The audit row, the SLA reaction, the events (helpdesk_api.tickets.pipeline)."""
        r, t = self.r, self.ticket
        comment_id = self.comment["id"] if self.comment else None
        await insert_audit(r, t["id"], self.changes, comment_id, self.via)
        await run_triggers(r, t, comment_id)
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
            self.expected_known = True
        # The notification stage: decided from the change (statuses read once per request).
        notifying = moved is not None and (await r.status(t["status_id"]))["notify_requester"]
        if reply == "agent" or notifying:
            await notify(r, t["id"])
        if reply == "agent":
            await relay(r, t)
        await metrics_on_change(r, t, self.changes, reply)
        status = await r.status(t["status_id"])
        if not self.expected_known:
            row = await r.conn.fetchrow(EXPECTED_REPLIES_SQL, FIRST_REPLY, t["id"])
            self.expected, self.expected_known = (row["breach_at"] if row else None), True
        data = ticket_json(t, status, self.expected)
        fields = [c for c in self.changes if c["field"] != "comment"]
        if fields:
            data = {"ticket": data, "changes": fields}
            r.event("ticket.updated", t["id"], data, public=False, via=self.via)
            if moved:
                r.event("ticket.status_changed", t["id"], data, public=True, via=self.via)


async def _locked(r: Request, ticket_id: int) -> _Change:
    row = await r.conn.fetchrow(SELECT_TICKET_FOR_UPDATE_SQL, FIRST_REPLY, 1, ticket_id)
    if row is None:
        raise NotFound
    if row["status_category"] == "closed":
        raise Invalid("closed")
    return _Change(r, row)


async def _comment(change: _Change, body: str, public: bool) -> None:
    """helpdesk_api.tickets.comments.add_comment for an admin's comment."""
    r, t = change.r, change.ticket
    change.comment = await insert_comment(r, t["id"], body, public=public, via=change.via)
    t["comment_count"] += 1
    t["updated_at"] = r.now
    if public:
        t["last_public_comment_at"] = r.now
        t["last_agent_reply_at"] = r.now  # the floors' caller is an admin: an agent's reply
        if t["first_agent_reply_at"] is None:
            change.set("first_agent_reply_at", r.now)
        if t["status_category"] == "new":
            change.set_status(await r.default_status("open"))
    change.changes.append(
        {"field": "comment", "from": None, "to": {"id": change.comment["id"], "public": public}}
    )
    data = {"public": public, "comment": comment_json(change.comment)}
    r.event("comment.created", t["id"], data, public=public, via=change.via)


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
            # Entering a category: the ticket fields it requires (tickets.custom_values).
            await conn.fetch(REQUIRED_FIELDS_SQL, "ticket", json.dumps([status["category"]]))
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


async def merge_tickets(
    conn: asyncpg.Connection, token_hash: bytes, target_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """POST /v1/tickets/{id}/merge by an admin: sources of one comment each, no CCs of their
    own, no tags, no attachments (what the bench sends; helpdesk_api.merging.service)."""
    if set(body) != {"source_ids"}:
        raise Invalid(f"the floor merges with the default notes only, not {sorted(body)}")
    source_ids = list(body["source_ids"])
    r = Request(conn, datetime.now(UTC))
    await r.begin(token_hash)
    try:
        ids = sorted({target_id, *source_ids})
        numbered = ", ".join(f"${n}::BIGINT" for n in range(1, len(ids) + 1))
        found = {row["id"]: row for row in await conn.fetch(LOCK_SQL.format(ids=numbered), *ids)}
        if target_id not in found or any(s not in found for s in source_ids):
            raise NotFound
        if any(found[i]["merged_into_id"] or found[i]["status_category"] == "closed" for i in ids):
            raise Invalid("merged or closed")
        target = _Change(r, found[target_id], VIA)
        sources = [_Change(r, found[i], VIA) for i in source_ids]
        copied = await _copy_conversations(r, target, source_ids)
        target.changes.append({"field": "merged_from", "from": None, "to": source_ids})
        if copied:
            target.changes.append({"field": "copied_comments", "from": None, "to": copied})
        ccs = await _copy_people(r, target, sources)
        if ccs:
            target.changes.append({"field": "ccs", "from": None, "to": ccs})
        if any(s.ticket["tags"] for s in sources):
            raise Invalid("the floor merges sources without tags")
        refs = ", ".join(f"#{i}" for i in source_ids)
        await target.flush()  # the comment's flush writes the target's pending changes first
        await _comment(target, f"Merged {refs} into this ticket.", False)
        target.ticket["updated_at"] = r.now
        await target.flush()
        await target.audit(reply=None)
        closed = await r.default_status("closed")
        for source in sources:
            await _comment(source, f"This ticket was merged into #{target_id}.", False)
            source.set_status(closed)
            source.set("merged_into_id", target_id)
            source.ticket["updated_at"] = r.now
            await source.flush()
            await source.audit(reply=None)
        data = {"target_id": target_id, "source_ids": source_ids,
                "copied_comment_ids": copied, "ccs_added": ccs}  # fmt: skip
        r.event("ticket.merged", target_id, data, public=False)
        result = {
            # As the event data: the expected first reply each ticket's audit settled.
            "target": ticket_json(
                target.ticket, await r.status(target.ticket["status_id"]), target.expected
            ),
            "sources": [
                ticket_json(s.ticket, await r.status(s.ticket["status_id"]), s.expected)
                for s in sources
            ],
            "copied_comment_ids": copied,
        }
        await r.commit()
    except BaseException:
        await r.rollback()
        raise
    return result


async def _copy_conversations(r: Request, target: _Change, source_ids: list[int]) -> list[int]:
    """helpdesk_api.tickets.comments.copy_history: author, time and visibility kept."""
    numbered = ", ".join(f"${n}::BIGINT" for n in range(1, len(source_ids) + 1))
    comments = await r.conn.fetch(SOURCE_COMMENTS_SQL.format(ids=numbered), *source_ids)
    if len(comments) > 1:
        raise Invalid("the floor copies one comment per merge")
    copies = [
        await insert_comment(
            r, target.ticket["id"], c["body"], public=c["is_public"], via=VIA,
            author_id=c["author_id"], created_at=c["created_at"], copy=True,
        )
        for c in comments
    ]  # fmt: skip
    if comments:
        numbered = ", ".join(f"${n}::BIGINT" for n in range(1, len(comments) + 1))
        if await r.conn.fetch(ATTACHMENTS_SQL.format(ids=numbered), *(c["id"] for c in comments)):
            raise Invalid("the floor copies no attachments")
    t = target.ticket
    t["comment_count"] += len(copies)
    latest = max((c["created_at"] for c in copies if c["is_public"]), default=None)
    if latest is not None and (
        t["last_public_comment_at"] is None or latest > t["last_public_comment_at"]
    ):
        t["last_public_comment_at"] = latest
    return [c["id"] for c in copies]


async def _copy_people(r: Request, target: _Change, sources: list[_Change]) -> list[Any]:
    """helpdesk_api.tickets.ccs.add_ccs for the sources' requesters and CCs."""
    source_ids = [s.ticket["id"] for s in sources]
    numbered = ", ".join(f"${n}::BIGINT" for n in range(1, len(source_ids) + 1))
    copied_on_sources = await r.conn.fetch(SOURCE_CCS_SQL.format(ids=numbered), *source_ids)
    people = {s.ticket["requester_id"] for s in sources} | {c["user_id"] for c in copied_on_sources}
    people.discard(target.ticket["requester_id"])
    if not people:
        return []
    wanted = sorted(people)
    numbered = ", ".join(f"${n}::BIGINT" for n in range(1, len(wanted) + 1))
    users = await r.conn.fetch(ACTIVE_USERS_SQL.format(ids=numbered), *wanted)
    if not users:
        return []
    kinds = [(u["id"], "cc" if u["role"] == "customer" else "follower") for u in users]
    values = ", ".join(
        f"(${4 * i + 1}::BIGINT, ${4 * i + 2}::BIGINT, ${4 * i + 3}::VARCHAR, ${4 * i + 4}::BIGINT)"
        for i in range(len(kinds))
    )
    args = [v for user_id, kind in kinds for v in (target.ticket["id"], user_id, kind, r.actor_id)]
    added = {
        row["user_id"] for row in await r.conn.fetch(INSERT_CCS_SQL.format(values=values), *args)
    }
    return [{"user_id": u, "kind": kind} for u, kind in kinds if u in added]
