"""The outbox end to end: rows written by ``enqueue`` and committed, sent by a real
`helpdesk-api worker` process to a real SMTP server; and the deliveries a ticket shows staff."""

import asyncio
from datetime import UTC, datetime

import asyncpg
from sqlalchemy import update

from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.mail.sending import OutboxJob
from helpdesk_api.models import OutboundEmail
from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.mail.outbox_fixtures import (
    SUPPORT,
    add_inbound,
    customer_ticket,
    enqueue_one,
    mailbox,
    sessions,
)
from tests.mail.smtp_sink import smtp_sink
from tests.metrics.conftest import METRICS_TOKEN
from tests.metrics.helpers import scrape, value
from tests.tickets.factories import make_group, make_ticket
from tests.webhooks.worker_process import running_worker, start_worker, stop_worker

__all__ = ["customer_ticket", "mailbox", "sessions"]  # fixtures


def _smtp(port: int, **env: str) -> dict[str, str]:
    return {
        "HELPDESK_SMTP_HOST": "127.0.0.1",
        "HELPDESK_SMTP_PORT": str(port),
        "HELPDESK_SMTP_SECURITY": "none",
        "HELPDESK_SMTP_TIMEOUT_SECONDS": "5",
        "HELPDESK_MAIL_RETRY_SCHEDULE": "1,1",
        **env,
    }


async def _row(database_url: str, row_id: int) -> asyncpg.Record:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        return await connection.fetchrow(
            "SELECT status, attempts, last_error, sent_at, claimed_until FROM outbound_emails "
            "WHERE id = $1",
            row_id,
        )
    finally:
        await connection.close()


async def _wait_status(database_url: str, row_id: int, status: str, seconds: float = 20.0):
    for _ in range(int(seconds / 0.1)):
        row = await _row(database_url, row_id)
        if row["status"] == status:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {row['status']} after {seconds} s: {dict(row)}")


async def test_a_reply_is_sent_once_with_its_envelope_and_threading_headers(
    sessions, settings, database_url, customer_ticket, mailbox
):
    ticket_id = customer_ticket["ticket"]["id"]
    await add_inbound(sessions, ticket_id, ["q1@example.com", "q2@example.com"])
    row = await enqueue_one(
        sessions, settings, ticket_id=ticket_id, html="<p>Принтер починили.</p>", automatic=True
    )
    with smtp_sink() as (sink, port), running_worker(database_url, **_smtp(port)):
        sent = await _wait_status(database_url, row.id, "sent")
        await asyncio.sleep(0.6)  # a worker pass later, still once
        [received] = sink.messages
    assert sent["attempts"] == 1
    assert sent["sent_at"] is not None
    assert sent["claimed_until"] is None
    assert received.sender == SUPPORT
    assert received.recipients == ["ivan@example.com"]
    message = received.message
    assert message["Message-ID"] == f"<{row.message_id}>"
    assert message["In-Reply-To"] == "<q2@example.com>"
    assert message["References"] == "<q1@example.com> <q2@example.com>"
    assert message["From"] == f"Acme Support <{SUPPORT}>"
    assert message["Reply-To"] == f"Acme Support <{SUPPORT}>"
    assert message["To"] == "Иван Петров <ivan@example.com>"
    assert message["Subject"] == f"[#{ticket_id}] Ответ на ваш запрос"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message.get_content_type() == "multipart/alternative"
    assert "Принтер починили." in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)).get_content().strip() == "<p>Принтер починили.</p>"


async def test_a_temporary_refusal_is_retried_under_the_same_message_id(
    sessions, settings, database_url, mailbox
):
    row = await enqueue_one(sessions, settings)
    with smtp_sink() as (sink, port), running_worker(database_url, **_smtp(port)):
        sink.answer_next("451 4.7.1 Greylisted, try again later")
        sent = await _wait_status(database_url, row.id, "sent")
        first, second = sink.messages
    assert sent["attempts"] == 2
    assert sent["last_error"] == "451 4.7.1 Greylisted, try again later"
    assert first.message["Message-ID"] == second.message["Message-ID"] == f"<{row.message_id}>"
    assert 0.8 <= second.at - first.at <= 5.0


async def test_a_permanent_refusal_fails_at_once(sessions, settings, database_url, mailbox):
    row = await enqueue_one(sessions, settings)
    with smtp_sink() as (sink, port), running_worker(database_url, **_smtp(port)):
        sink.answer_next("550 5.1.1 No such user here", at="rcpt")
        failed = await _wait_status(database_url, row.id, "failed")
    assert failed["attempts"] == 1
    assert failed["last_error"] == (
        "recipients refused: ivan@example.com: 550 5.1.1 No such user here"
    )
    assert sink.messages == []


async def test_a_worker_killed_mid_send_loses_nothing(sessions, settings, database_url, mailbox):
    row = await enqueue_one(sessions, settings)
    with smtp_sink() as (sink, port):
        sink.hang_next(30)  # the relay has the message but has not answered yet
        doomed = start_worker(database_url, **_smtp(port))
        try:
            await asyncio.to_thread(sink.wait_for, 1)
        finally:
            stop_worker(doomed, kill=True)
        claimed = await _row(database_url, row.id)
        assert claimed["status"] == "sending"
        assert claimed["claimed_until"] > datetime.now(UTC)
        # Its lease (3 × the SMTP timeout + 30 s) must run out before another worker sends.
        async with sessions() as session, session.begin():
            await session.execute(
                update(OutboundEmail)
                .where(OutboundEmail.id == row.id)
                .values(claimed_until=datetime.now(UTC), next_attempt_at=datetime.now(UTC))
            )
        with running_worker(database_url, **_smtp(port)):
            sent = await _wait_status(database_url, row.id, "sent")
        first, second = sink.messages
    assert sent["attempts"] == 2
    # A repeat, recognisable as one.
    assert first.raw == second.raw
    assert second.message["Message-ID"] == f"<{row.message_id}>"


async def test_without_a_relay_mail_waits_in_the_outbox(sessions, database_url, mailbox):
    settings = make_settings(database_url)
    assert settings.smtp_host is None
    row = await enqueue_one(sessions, settings)
    job = OutboxJob(settings)
    assert await job(sessions, datetime.now(UTC)) is None
    waiting = await _row(database_url, row.id)
    assert (waiting["status"], waiting["attempts"]) == ("pending", 0)


async def test_a_stale_worker_cannot_overwrite_a_newer_claim(sessions, database_url, mailbox):
    settings = make_settings(database_url, smtp_host="127.0.0.1", smtp_port=9)
    row = await enqueue_one(sessions, settings)
    job = OutboxJob(settings)
    [stale] = await job._claim(sessions, 1)
    async with sessions() as session, session.begin():  # its lease ran out; another claim
        await session.execute(
            update(OutboundEmail)
            .where(OutboundEmail.id == row.id)
            .values(claimed_until=datetime.now(UTC), next_attempt_at=datetime.now(UTC))
        )
    [newer] = await job._claim(sessions, 1)
    assert newer.attempts == stale.attempts + 1
    await job._record(sessions, stale, await job._send(stale))  # port 9: refused, retry
    still = await _row(database_url, row.id)
    assert (still["status"], still["attempts"], still["last_error"]) == ("sending", 2, None)


async def test_outbox_backlog_and_send_outcomes_are_measured(sessions, database_url, mailbox):
    with smtp_sink() as (sink, port):
        settings = make_settings(
            database_url,
            metrics_token=METRICS_TOKEN,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
        )
        async with app_client(settings) as client:
            await enqueue_one(sessions, settings)
            waiting = await scrape(client)
            assert value(waiting, "helpdesk_worker_due_items", job="mail-outbox") == 1
            sent = value(waiting, "helpdesk_mail_send_attempts_total", outcome="sent")
            job = OutboxJob(settings)
            try:
                await job(sessions, datetime.now(UTC))
                await asyncio.wait(job.in_flight, timeout=10)
            finally:
                await job.close()
            done = await scrape(client)
        assert len(sink.messages) == 1
    assert value(done, "helpdesk_worker_due_items", job="mail-outbox") == 0
    assert value(done, "helpdesk_mail_send_attempts_total", outcome="sent") == sent + 1


# The deliveries a ticket shows staff


async def test_staff_see_a_tickets_deliveries_newest_first(
    client, sessions, settings, customer_ticket, mailbox
):
    ticket_id = customer_ticket["ticket"]["id"]
    rows = [
        await enqueue_one(sessions, settings, ticket_id=ticket_id, kind=kind)
        for kind in ("acknowledgement", "public_reply", "status_changed")
    ]
    await enqueue_one(sessions, settings, ticket_id=(await make_ticket(client))["id"])
    _, agent = await make_user_with_token(client, role="light_agent")
    first = await client.get(f"/v1/tickets/{ticket_id}/deliveries?limit=2", headers=agent)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [d["kind"] for d in page["data"]] == ["status_changed", "public_reply"]
    newest = page["data"][0]
    assert newest == {
        "id": rows[2].id,
        "kind": "status_changed",
        "message_id": rows[2].message_id,
        "mail_from": SUPPORT,
        "recipients": ["ivan@example.com"],
        "subject": f"[#{ticket_id}] Ответ на ваш запрос",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": newest["next_attempt_at"],
        "last_error": None,
        "created_at": newest["created_at"],
        "sent_at": None,
        "comment_id": None,
    }
    rest = await client.get(
        f"/v1/tickets/{ticket_id}/deliveries",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=agent,
    )
    assert [d["id"] for d in rest.json()["data"]] == [rows[0].id]
    assert rest.json()["next_cursor"] is None


async def test_deliveries_are_for_staff_who_see_the_ticket(client, customer_ticket, mailbox):
    ticket_id = customer_ticket["ticket"]["id"]
    path = f"/v1/tickets/{ticket_id}/deliveries"
    # Staff only, like audits: the requester is refused by role, as is every customer.
    assert_problem(await client.get(path, headers=customer_ticket["headers"]), 403)
    agent, restricted = await make_user_with_token(client, role="agent", ticket_access="groups")
    await make_group(client, "Elsewhere", agent["id"])
    assert_problem(await client.get(path, headers=restricted), 404)
    assert_problem(await client.get("/v1/tickets/999999/deliveries", headers=ADMIN), 404)
    assert_problem(await client.get(path), 401)
    bad = assert_problem(await client.get(f"{path}?cursor=garbage", headers=ADMIN), 422)
    assert bad["errors"][0]["loc"] == ["query", "cursor"]
