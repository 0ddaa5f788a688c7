"""The web form's abuse controls: honeypot, per-address budget, signed form tokens, CAPTCHA."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import asyncpg

from helpdesk_api.webform import form_tokens
from tests.conftest import app_client, make_settings
from tests.live_server import free_port
from tests.webform.test_requests import PATH, form, tickets_of

SECRET = "form-secret-of-this-test-0123456789"


async def _submissions(database_url: str) -> list[str]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT outcome FROM web_form_submissions ORDER BY id")
    finally:
        await connection.close()
    return [row["outcome"] for row in rows]


async def test_honeypot_is_answered_as_accepted_and_the_budget_counts_it(database_url):
    settings = make_settings(database_url, web_form_requests_per_address_per_hour=3)
    async with app_client(settings) as client:
        caught = await client.post(PATH, json=form("bot@example.net", website="http://spam"))
        real = await client.post(PATH, json=form("human@example.net"))
        assert (caught.status_code, caught.content) == (real.status_code, real.content)
        assert caught.status_code == 202
        assert await tickets_of(client, "bot@example.net") == []
        assert len(await tickets_of(client, "human@example.net")) == 1
        # Refused requests do not count: the third request still passes.
        refused = await client.post(PATH, json=form("human@example.net", subject=""))
        assert refused.status_code == 422
        assert (await client.post(PATH, json=form("human@example.net"))).status_code == 202
        over = await client.post(PATH, json=form("human@example.net"))
        assert over.status_code == 429, over.text
        assert over.headers["content-type"].startswith("application/problem+json")
        # The window is an hour; the wait is most of it, whatever the machine's speed.
        assert 3000 < int(over.headers["Retry-After"]) <= 3601
        assert await _submissions(database_url) == ["honeypot", "created", "created"]
        # Another client address has a budget of its own (a trusted proxy names it).
    proxied = make_settings(
        database_url, web_form_requests_per_address_per_hour=3,
        trusted_proxy_header="X-Forwarded-For",
    )  # fmt: skip
    async with app_client(proxied) as client:
        other = {"X-Forwarded-For": "203.0.113.9"}
        assert (
            await client.post(PATH, json=form("x@example.net"), headers=other)
        ).status_code == 202


async def test_signed_form_tokens(database_url):
    async with app_client(make_settings(database_url)) as client:
        assert (await client.get(f"{PATH}/form-token")).status_code == 404
    settings = make_settings(database_url, web_form_secret=SECRET)
    async with app_client(settings) as client:
        issued = await client.get(f"{PATH}/form-token")
        assert issued.status_code == 200, issued.text
        token = issued.json()["token"]
        now = datetime.now(UTC)
        stale = form_tokens.issue(SECRET, now=now - timedelta(hours=3))
        forged = form_tokens.issue("another-secret-0123456789", now=now)
        tampered = token.rsplit(".", 1)[0] + "." + "0" * 64
        for bad, kind in [
            (None, "missing"),
            (stale, "form_token_expired"),
            (forged, "form_token_invalid"),
            (tampered, "form_token_invalid"),
            ("garbage", "form_token_invalid"),
        ]:
            body = form("t@example.net") if bad is None else form("t@example.net", form_token=bad)
            refused = await client.post(PATH, json=body)
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["type"] == kind
        assert (
            await client.post(PATH, json=form("t@example.net", form_token=token))
        ).status_code == 202
        again = await client.post(PATH, json=form("t@example.net", form_token=token))
        assert again.status_code == 422
        assert again.json()["errors"][0]["type"] == "form_token_used"
        assert len(await tickets_of(client, "t@example.net")) == 1
    quick = make_settings(database_url, web_form_secret=SECRET, web_form_token_min_age_seconds=30)
    async with app_client(quick) as client:
        fresh = (await client.get(f"{PATH}/form-token")).json()["token"]
        too_new = await client.post(PATH, json=form("q@example.net", form_token=fresh))
        assert too_new.json()["errors"][0]["type"] == "form_token_too_new"
        aged = form_tokens.issue(SECRET, now=datetime.now(UTC) - timedelta(seconds=60))
        assert (
            await client.post(PATH, json=form("q@example.net", form_token=aged))
        ).status_code == 202


@contextmanager
def captcha_verifier() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A local stand-in for a siteverify endpoint: "ok" passes, "broken" is a 500."""
    seen: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            fields = parse_qs(self.rfile.read(length).decode())
            seen.append(fields)
            answer = fields.get("response") == ["ok"]
            status = 500 if fields.get("response") == ["broken"] else 200
            payload = json.dumps({"success": answer}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/siteverify", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_captcha_is_checked_with_the_configured_verifier(database_url):
    with captcha_verifier() as (url, seen):
        settings = make_settings(
            database_url, web_form_captcha_verify_url=url, web_form_captcha_secret="cap-secret"
        )
        async with app_client(settings) as client:
            for response, status in [(None, 422), ("wrong", 422), ("broken", 503), ("ok", 202)]:
                body = form("c@example.net")
                if response is not None:
                    body["captcha_response"] = response
                answer = await client.post(PATH, json=body)
                assert answer.status_code == status, answer.text
            assert len(await tickets_of(client, "c@example.net")) == 1
    assert [s["response"] for s in seen] == [["wrong"], ["broken"], ["ok"]]
    assert all(s["secret"] == ["cap-secret"] for s in seen)
    # A verifier nobody answers at: 503, nothing stored.
    down = make_settings(
        database_url, web_form_captcha_verify_url=f"http://127.0.0.1:{free_port()}/verify"
    )
    async with app_client(down) as client:
        unreachable = await client.post(PATH, json=form("d@example.net", captcha_response="ok"))
        assert unreachable.status_code == 503
        assert unreachable.headers["Retry-After"]
        assert await tickets_of(client, "d@example.net") == []
