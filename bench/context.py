"""What the scenarios pick from, read from the loaded data; and the tickets merges consume."""

from typing import Any

import asyncpg

# Common and rare words in the five languages of the data, and a two-word query.
SEARCH_WORDS = [
    "printer", "refund", "stampante", "rimborso", "принтер", "пароль",
    "nyomtató", "jelszó", "imprimantă", "factură", "vpn timeout", "licenza",
]  # fmt: skip
OPEN = "('new', 'open', 'pending', 'on_hold')"
# Merges a client may send per second, at most (the floors merge in ~15 ms): sources
# are prepared for that many over the whole window, and the ones left over are deleted.
MERGES_PER_CLIENT_SECOND = 100
MERGE_TARGETS_PER_CLIENT = 25


async def build_context(url: str) -> dict[str, Any]:
    """Values the scenarios pick from, read from the loaded data."""
    conn = await asyncpg.connect(url)
    try:
        emails = [
            r["value"]
            for r in await conn.fetch(
                "SELECT value FROM user_identities WHERE value LIKE 'customer%' "
                "ORDER BY random() LIMIT 1000"
            )
        ]
        open_ids = [
            r["id"]
            for r in await conn.fetch(
                f"SELECT id FROM tickets WHERE status_category IN {OPEN} "
                "AND merged_into_id IS NULL ORDER BY random() LIMIT 5000"
            )
        ]
        working = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM ticket_statuses WHERE category IN ('open','pending','on_hold') "
                "AND is_active"
            )
        ]
        # Any ticket (ids have gaps: merges delete the sources they did not use).
        read_ids = await sample_ids(conn)
        agents = [
            r["id"] for r in await conn.fetch("SELECT id FROM users WHERE role = 'agent' LIMIT 50")
        ]
        groups = [r["id"] for r in await conn.fetch("SELECT id FROM groups")]
        tags = [
            r["tag"]
            for r in await conn.fetch(
                "SELECT tag FROM tag_counts WHERE ticket_count > 0 "
                "ORDER BY ticket_count DESC LIMIT 30"
            )
        ]
    finally:
        await conn.close()
    return {
        "emails": emails,
        "open_ids": open_ids,
        "working_status_ids": working,
        "read_ids": read_ids,
        "categories": ["new", "open", "pending", "solved"],
        "assignee_ids": [str(a) for a in agents] + ["none"],
        "group_ids": groups,
        "tags": tags,
        "search_words": SEARCH_WORDS,
    }


async def sample_ids(conn: asyncpg.Connection, size: int = 5000) -> list[int]:
    rows = await conn.fetch("SELECT id FROM tickets ORDER BY random() LIMIT $1", size)
    return [r["id"] for r in rows]


async def prepare_merges(
    url: str, clients: int, seconds: float, per_client: int | None = None
) -> list[list[int]]:
    """[target, source] pairs for `merge_tickets`, client i taking pairs[i::clients].

    Sources are fresh one-comment tickets (a customer's duplicate report, written here with
    plain SQL: the triggers build their search documents); targets are open tickets, each
    client cycling over a few of its own, so no two clients ever lock the same tickets. The
    choice is arbitrary but repeatable (md5 of the id), so two copies of a dataset get the
    same pairs.
    """
    if per_client is None:
        per_client = int(seconds * MERGES_PER_CLIENT_SECOND) + 50
    conn = await asyncpg.connect(url)
    try:
        targets = [
            r["id"]
            for r in await conn.fetch(
                f"SELECT id FROM tickets WHERE status_category IN {OPEN} "
                "AND merged_into_id IS NULL ORDER BY md5(id::text) LIMIT $1",
                clients * MERGE_TARGETS_PER_CLIENT,
            )
        ]
        if len(targets) < clients:
            raise RuntimeError(f"{len(targets)} open tickets: too few to merge into")
        sources = [
            r["id"]
            for r in await conn.fetch(
                "WITH customers AS (SELECT array_agg(id) AS ids FROM (SELECT id FROM users "
                "WHERE role = 'customer' ORDER BY md5(id::text) LIMIT 1000) c), "
                "status AS (SELECT id FROM ticket_statuses WHERE category = 'open' "
                "AND is_default), "
                "new AS (INSERT INTO tickets (subject, requester_id, submitter_id, status_id, "
                "status_category, priority, priority_rank, channel, tags, is_public, "
                "comment_count, last_public_comment_at) "
                "SELECT 'Same problem again, see my other ticket ' || g, "
                "ids[1 + g % cardinality(ids)], ids[1 + g % cardinality(ids)], status.id, "
                "'open', 'normal', 2, 'email', '{}', true, 1, now() "
                "FROM generate_series(1, $1) g, customers, status RETURNING id, requester_id), "
                "comments AS (INSERT INTO ticket_comments (ticket_id, author_id, body, "
                "is_public, via) SELECT id, requester_id, 'The printer still does not work "
                "after the update, same as in my other ticket.', true, 'email' FROM new), "
                # Their metrics row, as the ticket pipeline writes it for a new ticket.
                "metrics AS (INSERT INTO ticket_metrics (ticket_id, status_category, "
                "category_since, updated_at) SELECT id, 'open', now(), now() FROM new) "
                "SELECT id FROM new ORDER BY id",
                clients * per_client,
            )
        ]
    finally:
        await conn.close()
    pairs = []
    for n, source in enumerate(sources):
        client, turn = n % clients, n // clients
        mine = targets[client::clients]
        pairs.append([mine[turn % len(mine)], source])
    return pairs


async def drop_unmerged(url: str, pairs: list[list[int]]) -> int:
    """Delete the prepared sources no merge used, so repeated runs do not pile them up.

    They have nothing but their comment, so triggers are skipped (replica role): through the
    foreign key's cascade, each ticket's comments would be one DELETE statement of their own,
    each firing the search-document trigger (seconds for a few thousand tickets)."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            unused = [
                r["id"]
                for r in await conn.fetch(
                    "SELECT id FROM tickets WHERE id = ANY($1::bigint[]) "
                    "AND merged_into_id IS NULL",
                    [source for _, source in pairs],
                )
            ]
            await conn.execute(
                "DELETE FROM ticket_comments WHERE ticket_id = ANY($1::bigint[])", unused
            )
            await conn.execute("DELETE FROM tickets WHERE id = ANY($1::bigint[])", unused)
    finally:
        await conn.close()
    return len(unused)
