"""The bot that answers at once: web form and channel tickets get the best public articles,
and the requester's answer (link or keyword) solves the ticket via bot or is recorded."""

import re
from typing import Any

import asyncpg
import httpx

from tests.channels.factories import make_channel, send
from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem, feed_once_visible, make_user_with_token
from tests.kb.helpers import make_article, make_section

BOT = {
    "kb_article_url": "https://help.example.com/kb/{id}?hl={locale}",
    "kb_deflection_url": "https://help.example.com/deflect/{token}",
    "webhook_allow_private": True,
}
TOKEN = re.compile(r"https://help\.example\.com/deflect/(df_[A-Za-z0-9_-]+)")


async def _articles(client: httpx.AsyncClient) -> dict[str, int]:
    """A public, a signed-in, an internal and a draft article about passwords, and an
    unrelated public one."""
    section = await make_section(client)
    ids = {}
    for name, visibility, status in [
        ("public", "public", "published"),
        ("signed_in", "signed_in", "published"),
        ("internal", "internal", "published"),
        ("draft", "public", "draft"),
    ]:
        texts = {"en": (f"Reset your password ({name})", "Open Settings, then reset password.")}
        article = await make_article(
            client, section["id"], texts, visibility=visibility, status=status
        )
        ids[name] = article["id"]
    other = await make_article(client, section["id"], {"en": ("Invoices", "Download invoices.")})
    ids["other"] = other["id"]
    return ids


async def _comments(client: httpx.AsyncClient, ticket_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=ADMIN)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def _ticket(client: httpx.AsyncClient, ticket_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/tickets/{ticket_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_web_form_bot_offers_public_articles_and_the_link_solves_once(database_url):
    settings = make_settings(database_url, kb_bot_web_form_enabled=True, **BOT)
    async with app_client(settings) as client:
        ids = await _articles(client)
        customer, as_customer = await make_user_with_token(client)
        _, stranger = await make_user_with_token(client)
        _, agent = await make_user_with_token(client, role="agent")
        sent = await client.post(
            "/v1/public/requests",
            json={"subject": "Forgot my password", "body": "How do I reset it?"},
            headers=as_customer,
        )
        assert sent.status_code == 202, sent.text
        ticket_id = sent.json()["ticket_id"]
        _, reply = await _comments(client, ticket_id)
        assert (reply["public"], reply["via"], reply["author_id"]) == (True, "bot", None)
        # Only the public published article: no signed-in, internal or draft one, nor a
        # link to an unrelated article.
        assert f"/kb/{ids['public']}?hl=en" in reply["body"]
        assert all(f"/kb/{ids[n]}?" not in reply["body"] for n in ids if n != "public")
        assert '<a href="https://help.example.com/deflect/df_' in reply["html_body"]
        [token] = TOKEN.findall(reply["body"])
        # A bot reply is no agent's: the ticket stays new, without a first reply.
        ticket = await _ticket(client, ticket_id)
        assert ticket["status"]["category"] == "new"

        listed = await client.get("/v1/kb/deflections", headers=agent)
        assert listed.status_code == 200, listed.text
        [deflection] = listed.json()["data"]
        assert deflection["ticket_id"] == ticket_id
        assert deflection["comment_id"] == reply["id"]
        assert (deflection["channel_id"], deflection["state"]) == (None, "offered")
        assert deflection["article_ids"] == [ids["public"]]
        assert "token" not in str(deflection)

        path = f"/v1/public/deflections/{token}"
        # Bad answers change nothing: unknown or malformed tokens, a staff token, another
        # customer's token, a body that is not a boolean.
        assert_problem(await client.post(path + "x", json={"solved": True}), 404)
        assert_problem(await client.post("/v1/public/deflections/cs_x", json={"solved": True}), 404)
        assert_problem(await client.post(path, json={"solved": True}, headers=ADMIN), 403)
        assert_problem(await client.post(path, json={"solved": True}, headers=stranger), 404)
        assert_problem(await client.post(path, json={"solved": "yes"}), 422)
        assert_problem(await client.post(path, json={}), 422)
        assert (await _ticket(client, ticket_id))["status"]["category"] == "new"
        # Staff-only reports: customers get 403, bad ranges 422.
        assert_problem(await client.get("/v1/kb/deflections", headers=as_customer), 403)
        assert_problem(await client.get("/v1/kb/deflections/counts", headers=as_customer), 403)
        assert_problem(await client.get("/v1/kb/deflections?from=yesterday", headers=ADMIN), 422)
        assert_problem(await client.get("/v1/kb/deflections?state=maybe", headers=ADMIN), 422)

        solved = await client.post(path, json={"solved": True}, headers=as_customer)
        assert solved.status_code == 200, solved.text
        assert solved.json() == {"state": "accepted", "ticket_id": ticket_id, "ticket_solved": True}
        assert (await _ticket(client, ticket_id))["status"]["category"] == "solved"
        assert_problem(await client.post(path, json={"solved": False}), 409)

        counts = await client.get("/v1/kb/deflections/counts", headers=ADMIN)
        assert counts.json() == {"offered": 1, "accepted": 1, "rejected": 0, "unanswered": 0}
        later = await client.get(
            "/v1/kb/deflections/counts?from=2999-01-01T00:00:00Z", headers=ADMIN
        )
        assert later.json() == {"offered": 0, "accepted": 0, "rejected": 0, "unanswered": 0}
        events = await feed_once_visible(
            client, "/v1/events?type=deflection.accepted&type=deflection.offered", ADMIN
        )
        assert [e["type"] for e in events] == ["deflection.offered", "deflection.accepted"]
        assert events[1]["data"]["deflection"]["answered_by"] == "link"
        assert events[1]["actor"] == {"user_id": customer["id"], "via": "bot"}
        # Deflection events are staff-only (not public: no customer stream carries them).
        assert_problem(await client.get("/v1/events", headers=as_customer), 403)
        assert customer["id"] == deflection["requester_id"]


async def test_channel_bot_reply_is_relayed_and_solved_by_keyword_or_rejected(database_url):
    settings = make_settings(database_url, **BOT)
    async with app_client(settings) as client:
        ids = await _articles(client)
        bad = await client.post(
            "/v1/channels",
            json={"kind": "chat", "name": "x", "kb_bot_enabled": True, "kb_bot_min_rank": -1},
            headers=ADMIN,
        )
        assert_problem(bad, 422)
        channel = await make_channel(
            client, "chat", webhook_url="http://127.0.0.1:9/hook", kb_bot_enabled=True
        )
        assert (channel["kb_bot_enabled"], channel["kb_bot_max_articles"]) == (True, 3)
        assert_problem(
            await client.patch(
                f"/v1/channels/{channel['id']}", json={"kb_bot_max_articles": 0}, headers=ADMIN
            ),
            422,
        )

        first = await send(client, channel, "I need to reset my password", sender=("external", "a"))
        ticket_id = first.json()["ticket_id"]
        _, reply = await _comments(client, ticket_id)
        assert reply["via"] == "bot"
        assert f"/kb/{ids['public']}?hl=en" in reply["body"]
        connection = await asyncpg.connect(database_url)
        try:
            rows = await connection.fetch(
                "SELECT comment_id, payload FROM channel_deliveries WHERE ticket_id = $1",
                ticket_id,
            )
        finally:
            await connection.close()
        # The bot's reply goes out through the channel's outbox like an agent's.
        assert [r["comment_id"] for r in rows] == [reply["id"]]
        assert b"/deflect/df_" in bytes(rows[0]["payload"])

        # Another word than the keyword is a message like any other; "Solved!" accepts.
        await send(client, channel, "thanks, looking", sender=("external", "a"))
        assert (await _ticket(client, ticket_id))["status"]["category"] == "new"
        await send(client, channel, "Solved!", sender=("external", "a"))
        ticket = await _ticket(client, ticket_id)
        assert ticket["status"]["category"] == "solved"
        [deflection] = (await client.get("/v1/kb/deflections", headers=ADMIN)).json()["data"]
        assert (deflection["state"], deflection["answered_by"]) == ("accepted", "keyword")
        assert deflection["channel_id"] == channel["id"]
        [token] = TOKEN.findall(reply["body"])
        assert_problem(
            await client.post(f"/v1/public/deflections/{token}", json={"solved": True}), 409
        )

        # No article ranks for an unrelated message: no reply, no deflection.
        quiet = await send(client, channel, "My parcel is late", sender=("external", "b"))
        assert len(await _comments(client, quiet.json()["ticket_id"])) == 1

        # "No" keeps the ticket with the agents.
        again = await send(client, channel, "Password reset fails", sender=("external", "c"))
        _, reply = await _comments(client, again.json()["ticket_id"])
        [token] = TOKEN.findall(reply["body"])
        rejected = await client.post(f"/v1/public/deflections/{token}", json={"solved": False})
        assert rejected.json()["state"] == "rejected", rejected.text
        assert (await _ticket(client, again.json()["ticket_id"]))["status"]["category"] == "new"
        page = await client.get("/v1/kb/deflections?limit=1&state=rejected", headers=ADMIN)
        assert [d["state"] for d in page.json()["data"]] == ["rejected"]
        counts = (await client.get("/v1/kb/deflections/counts", headers=ADMIN)).json()
        assert counts == {"offered": 2, "accepted": 1, "rejected": 1, "unanswered": 0}
        # Keyset pages: newest first, each once.
        seen, cursor = [], None
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            got = (await client.get("/v1/kb/deflections", params=params, headers=ADMIN)).json()
            seen += [d["id"] for d in got["data"]]
            if not (cursor := got["next_cursor"]):
                break
        assert seen == sorted(seen, reverse=True)
        assert len(seen) == 2
