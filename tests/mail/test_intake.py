"""Mail in through the inbound POST: tickets, threading, dedupe, loops and quarantine."""

import asyncio
from email.message import EmailMessage

from tests.conftest import app_client, make_settings
from tests.factories import (
    ADMIN,
    assert_problem,
    bearer,
    make_token,
    make_user,
    make_user_with_token,
)
from tests.mail.mailboxes import RFC822, SUPPORT, deliver, make_mailbox
from tests.mail.messages import message, message_id_of


async def _comments(client, ticket_id, headers=ADMIN):
    response = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_a_new_message_opens_a_ticket_for_a_new_customer(client):
    group = (await client.post("/v1/groups", json={"name": "Mail"}, headers=ADMIN)).json()
    mailbox = await make_mailbox(client, group_id=group["id"])
    raw = message(
        sender="Ilona Kovács <ilona@example.hu>",
        subject="=?utf-8?q?Nyomtat=C3=B3_hiba?=",
        body="Jó napot! A nyomtató nem működik, kérem segítsenek mielőbb. Köszönöm szépen.",
    )
    result = await deliver(client, mailbox["id"], raw)
    assert result["status"] == "processed"
    assert result["outcome"] == "new_ticket"
    assert result["duplicate"] is False
    ticket = (await client.get(f"/v1/tickets/{result['ticket_id']}", headers=ADMIN)).json()
    assert ticket["subject"] == "Nyomtató hiba"
    assert ticket["channel"] == "email"
    assert ticket["group_id"] == group["id"]
    requester = (await client.get(f"/v1/users/{ticket['requester_id']}", headers=ADMIN)).json()
    assert requester["email"] == "ilona@example.hu"
    assert requester["name"] == "Ilona Kovács"
    assert requester["role"] == "customer"
    assert requester["locale"] == "hu"
    [first] = await _comments(client, ticket["id"])
    assert first["public"] is True
    assert first["via"] == "email"
    assert "nyomtató nem működik" in first["body"]
    assert first["source"]["email"]["message_id"] == message_id_of(raw).strip("<>")
    assert first["source"]["email"]["thread_match"] is None
    # The headers and how the mail was threaded are for staff: never for the customer.
    customer = bearer(await make_token(client, requester["id"]))
    [seen] = await _comments(client, ticket["id"], headers=customer)
    assert seen["source"] is None


async def test_the_same_message_twice_is_one_ticket(client):
    mailbox = await make_mailbox(client)
    raw = message()
    first = await deliver(client, mailbox["id"], raw)
    again = await deliver(client, mailbox["id"], raw)
    assert again["duplicate"] is True
    assert again["id"] == first["id"]
    assert again["ticket_id"] == first["ticket_id"]
    listed = (await client.get("/v1/tickets", headers=ADMIN)).json()["data"]
    assert [t["id"] for t in listed] == [first["ticket_id"]]


async def test_a_reply_joins_its_ticket_by_in_reply_to_and_says_so(client):
    mailbox = await make_mailbox(client)
    opening = message(sender="ana@example.ro")
    opened = await deliver(client, mailbox["id"], opening)
    reply = message(
        sender="ana@example.ro",
        subject="Re: Printer on fire",
        body="It is still burning.\n\nOn Sun, 29 Nov 2026, Support wrote:\n> What happened?\n",
        in_reply_to=message_id_of(opening),
    )
    joined = await deliver(client, mailbox["id"], reply)
    assert joined["outcome"] == "comment"
    assert joined["ticket_id"] == opened["ticket_id"]
    assert joined["thread_match"] == "in-reply-to"
    comments = await _comments(client, opened["ticket_id"])
    assert comments[-1]["body"] == "It is still burning."
    assert comments[-1]["source"]["email"]["thread_match"] == "in-reply-to"


async def test_a_subject_token_threads_only_for_people_on_the_ticket(client):
    mailbox = await make_mailbox(client)
    opened = await deliver(client, mailbox["id"], message(sender="owner@example.org"))
    ticket_id = opened["ticket_id"]
    token_subject = f"Re: [#{ticket_id}] Printer on fire"
    joined = await deliver(
        client, mailbox["id"], message(sender="owner@example.org", subject=token_subject)
    )
    assert (joined["ticket_id"], joined["thread_match"]) == (ticket_id, "subject-token")
    # Zammad's leak: a stranger who knows the number must not write into the ticket.
    stranger = await deliver(
        client, mailbox["id"], message(sender="stranger@evil.example", subject=token_subject)
    )
    assert stranger["outcome"] == "new_ticket"
    assert stranger["ticket_id"] != ticket_id
    [first] = await _comments(client, stranger["ticket_id"])
    assert first["source"]["email"]["thread_refused"] == {
        "ticket_id": ticket_id,
        "match": "subject-token",
    }
    assert len(await _comments(client, ticket_id)) == 2


async def test_copied_people_become_ccs_and_may_reply(client):
    mailbox = await make_mailbox(client)
    opened = await deliver(
        client,
        mailbox["id"],
        message(sender="boss@example.org", cc="Deputy <deputy@example.org>, " + SUPPORT),
    )
    ccs = (await client.get(f"/v1/tickets/{opened['ticket_id']}/ccs", headers=ADMIN)).json()
    emails = {c.get("email") or c.get("user", {}).get("email") for c in ccs["data"]}
    assert len(ccs["data"]) == 1, ccs
    reply = await deliver(
        client,
        mailbox["id"],
        message(sender="deputy@example.org", subject=f"Re: [#{opened['ticket_id']}] Printer"),
    )
    assert reply["ticket_id"] == opened["ticket_id"]
    del emails


async def test_machine_mail_and_our_own_mail_open_nothing_or_are_ignored(client):
    mailbox = await make_mailbox(client)
    own = await deliver(client, mailbox["id"], message(sender=SUPPORT))
    assert (own["status"], own["outcome"], own["ticket_id"]) == ("ignored", "own_mail", None)
    bounce = message(
        sender="MAILER-DAEMON@mx.example.org",
        subject="Undelivered Mail Returned to Sender",
        headers={"Auto-Submitted": "auto-replied"},
    )
    ignored = await deliver(client, mailbox["id"], bounce)
    assert ignored["status"] == "ignored"


async def test_a_message_that_cannot_be_processed_is_kept_and_can_be_retried(client):
    mailbox = await make_mailbox(client)
    raw = b"From: nobody\r\nSubject: no usable sender\r\nMessage-ID: <poison@x>\r\n\r\nhi\r\n"
    result = await deliver(client, mailbox["id"], raw)
    assert result["status"] == "failed"
    assert result["error"]
    failed = (await client.get(f"/v1/email-channels/{mailbox['id']}/failed", headers=ADMIN)).json()
    assert [m["id"] for m in failed["data"]] == [result["id"]]
    stored = await client.get(
        f"/v1/email-channels/{mailbox['id']}/inbound/{result['id']}/raw", headers=ADMIN
    )
    assert stored.content == raw
    retried = await client.post(
        f"/v1/email-channels/{mailbox['id']}/failed/{result['id']}/retry", headers=ADMIN
    )
    assert retried.status_code == 200
    assert retried.json()["status"] == "failed"
    assert retried.json()["attempts"] == 2
    discarded = await client.post(
        f"/v1/email-channels/{mailbox['id']}/failed/{result['id']}/discard", headers=ADMIN
    )
    assert discarded.json()["status"] == "discarded"
    assert_problem(
        await client.post(
            f"/v1/email-channels/{mailbox['id']}/failed/{result['id']}/discard", headers=ADMIN
        ),
        409,
    )
    failed = (await client.get(f"/v1/email-channels/{mailbox['id']}/failed", headers=ADMIN)).json()
    assert failed["data"] == []


async def test_poison_messages_are_quarantined_never_500(client):
    mailbox = await make_mailbox(client)
    poisons = [
        b"",
        bytes(range(256)) * 40,
        b'From: a@example.org\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n'
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\n\xff\xfe\xfa\r\n--x--\r\n",
        b"From: a@example.org\r\nSubject: =?utf-8?b?////?=\r\nContent-Transfer-Encoding: base64"
        b"\r\n\r\n!!!not base64!!!\r\n",
        message(attachments=[("bomb.zip", "application/zip", b"PK\x03\x04" + b"\0" * 1000)]),
    ]
    for raw in poisons:
        response = await client.post(
            f"/v1/email-channels/{mailbox['id']}/inbound", content=raw, headers=RFC822
        )
        assert response.status_code == 202, (raw[:60], response.text)
        assert response.json()["status"] in ("processed", "failed", "ignored")


async def test_the_inbound_endpoint_refuses_bad_requests(client):
    mailbox = await make_mailbox(client)
    url = f"/v1/email-channels/{mailbox['id']}/inbound"
    assert_problem(await client.post(url, content=message(), headers=ADMIN), 415)
    assert_problem(await client.post(url, content=message()), 401)
    _, agent = await make_user_with_token(client, role="agent")
    assert_problem(
        await client.post(
            url, content=message(), headers={**agent, "Content-Type": RFC822["Content-Type"]}
        ),
        403,
    )
    assert_problem(
        await client.post("/v1/email-channels/999999/inbound", content=message(), headers=RFC822),
        404,
    )
    await client.patch(f"/v1/email-channels/{mailbox['id']}", json={"active": False}, headers=ADMIN)
    assert_problem(await client.post(url, content=message(), headers=RFC822), 409)


async def test_mailbox_admin_api(client):
    created = await make_mailbox(client, imap_host="imap.example.test", imap_username="u",
                                 imap_password="secret")  # fmt: skip
    assert created["imap_password_set"] is True
    assert "imap_password" not in created
    assert_problem(
        await client.post(
            "/v1/email-channels", json={"name": "x", "address": SUPPORT.upper()}, headers=ADMIN
        ),
        409,
    )
    assert_problem(
        await client.post(
            "/v1/email-channels", json={"name": "x", "address": "not-an-address"}, headers=ADMIN
        ),
        422,
    )
    assert_problem(
        await client.post(
            "/v1/email-channels",
            json={"name": "x", "address": "a@b.example", "imap_host": "imap.b.example"},
            headers=ADMIN,
        ),
        422,
    )
    assert_problem(
        await client.post(
            "/v1/email-channels",
            json={"name": "x", "address": "a@b.example", "group_id": 999999},
            headers=ADMIN,
        ),
        422,
    )
    got = await client.get(f"/v1/email-channels/{created['id']}", headers=ADMIN)
    etag = got.headers["etag"]
    changed = await client.patch(
        f"/v1/email-channels/{created['id']}",
        json={"imap_password": "new", "name": "Renamed"},
        headers={**ADMIN, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    stale = await client.patch(
        f"/v1/email-channels/{created['id']}", json={"name": "Again"},
        headers={**ADMIN, "If-Match": etag},
    )  # fmt: skip
    assert_problem(stale, 412)
    user = await make_user(client, role="agent")
    agent = bearer(await make_token(client, user["id"]))
    assert_problem(await client.get("/v1/email-channels", headers=agent), 403)
    # The feed shows an event once every older transaction in the cluster has ended.
    for _ in range(200):
        events = (await client.get("/v1/events", headers=ADMIN)).json()["data"]
        updated = [e for e in events if e["type"] == "email_channel.updated"]
        if updated:
            break
        await asyncio.sleep(0.05)
    assert updated
    assert {"field": "imap_password", "from": None, "to": None} in updated[0]["data"]["changes"]
    assert "new" not in str(updated[0]["data"])


async def test_attachments_and_inline_images_become_the_comments_files(client):
    mailbox = await make_mailbox(client)
    mail = EmailMessage()
    mail["From"] = "pic@example.org"
    mail["To"] = SUPPORT
    mail["Subject"] = "Screenshot"
    mail["Message-ID"] = "<inline-1@example.org>"
    mail.set_content("See the screenshot.")
    mail.add_alternative('<p>See:</p><img src="cid:shot1@example.org">', subtype="html")
    mail.get_payload()[1].add_related(
        b"\x89PNG\r\n\x1a\nfake", maintype="image", subtype="png", cid="<shot1@example.org>"
    )
    mail.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="data.csv")
    result = await deliver(client, mailbox["id"], bytes(mail))
    [first] = await _comments(client, result["ticket_id"])
    files = {a["filename"]: a for a in first["attachments"]}
    assert "data.csv" in files
    [image] = [a for a in first["attachments"] if a["content_type"] == "image/png"]
    assert f"/v1/attachments/{image['id']}/content" in first["html_body"]
    content = await client.get(f"/v1/attachments/{files['data.csv']['id']}/content", headers=ADMIN)
    assert content.content == b"a,b\n1,2\n"


async def test_a_sender_past_the_hourly_limit_writes_into_their_latest_ticket(client, database_url):
    settings = make_settings(database_url, mail_new_tickets_per_sender_per_hour=2)
    async with app_client(settings) as limited:
        mailbox = await make_mailbox(limited)
        results = [
            await deliver(limited, mailbox["id"], message(sender="loop@example.org", subject=s))
            for s in ("one", "two", "three", "four")
        ]
    assert [r["outcome"] for r in results] == [
        "new_ticket", "new_ticket", "rate_limited", "rate_limited"
    ]  # fmt: skip
    assert results[2]["ticket_id"] == results[3]["ticket_id"] == results[1]["ticket_id"]


async def test_a_message_over_the_size_limit_is_refused_whole(client, database_url):
    async with app_client(make_settings(database_url, smtp_max_message_bytes=4096)) as small:
        mailbox = await make_mailbox(small)
        big = message(body="x" * 8000)
        response = await small.post(
            f"/v1/email-channels/{mailbox['id']}/inbound", content=big, headers=RFC822
        )
        assert_problem(response, 413)
        fits = await deliver(small, mailbox["id"], message(body="short"))
        assert fits["status"] == "processed"


async def test_only_failed_messages_are_retried_and_unknown_ones_are_404(client):
    mailbox = await make_mailbox(client)
    done = await deliver(client, mailbox["id"], message())
    base = f"/v1/email-channels/{mailbox['id']}"
    assert_problem(await client.post(f"{base}/failed/{done['id']}/retry", headers=ADMIN), 409)
    assert_problem(await client.post(f"{base}/failed/999999/retry", headers=ADMIN), 404)
    assert_problem(await client.get(f"{base}/inbound/999999", headers=ADMIN), 404)
    other = await make_mailbox(client, address="other@help.example.com")
    # A message is reached only through the mailbox it came to.
    assert_problem(
        await client.get(f"/v1/email-channels/{other['id']}/inbound/{done['id']}", headers=ADMIN),
        404,
    )
