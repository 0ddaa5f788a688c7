"""/v1/notification-templates, and render() reading what admins saved."""

import json
import logging

import asyncpg
import pytest
from sqlalchemy import insert

from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.models import NotificationTemplate, Ticket, TicketComment, User
from helpdesk_api.notifications import (
    NotificationEvent,
    TemplateOrigin,
    build_context,
    render,
    sample_context,
)
from tests.conftest import make_settings
from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.tickets.factories import comment, make_ticket

BASE = "/v1/notification-templates"
REPLY_IT = f"{BASE}/public_reply/it"
OVERRIDE = {
    "subject": "[#{{ ticket.id }}] Risposta: {{ ticket.subject }}",
    "text_body": "Ciao {{ recipient.name }},\n{{ comment.body }}\n",
    "html_body": "<p>Ciao {{ recipient.name }}</p>{{ comment.html }}",
}


async def _put(client, path=REPLY_IT, body=None, **headers):
    return await client.put(path, json=body or OVERRIDE, headers={**ADMIN, **headers})


async def _events(database_url):
    """The notification_template.* events, read from the table (the feed lags behind any
    transaction in flight on the server)."""
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT type, data FROM events WHERE type LIKE 'notification_template.%' ORDER BY id"
        )
    finally:
        await connection.close()
    return [(row["type"], json.loads(row["data"])) for row in rows]


async def test_the_list_covers_every_event_in_every_built_in_language(client):
    response = await client.get(BASE, headers=ADMIN)
    assert response.status_code == 200
    data = response.json()["data"]
    assert {(t["event"], t["locale"]) for t in data} == {
        (event.value, locale)
        for event in NotificationEvent
        for locale in ("en", "hu", "it", "ro", "ru")
    }
    assert all(t["source"] == "builtin" and not t["customised"] for t in data)
    assert response.json()["next_cursor"] is None


async def test_the_list_pages_by_cursor_and_filters(client):
    await _put(client, f"{BASE}/ticket_created/pt-BR", {**OVERRIDE, "subject": "Novo"})
    seen, cursor = [], None
    while True:
        query = f"?limit=7&cursor={cursor}" if cursor else "?limit=7"
        page = (await client.get(BASE + query, headers=ADMIN)).json()
        seen += [(t["event"], t["locale"]) for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 30  # pt-BR joins the locales, for every event
    assert ("public_reply", "pt-BR") in seen
    customised = (await client.get(f"{BASE}?customised=true", headers=ADMIN)).json()["data"]
    assert [(t["event"], t["locale"]) for t in customised] == [("ticket_created", "pt-BR")]
    only = (await client.get(f"{BASE}?event=acknowledgement", headers=ADMIN)).json()["data"]
    assert {t["event"] for t in only} == {"acknowledgement"}
    assert_problem(await client.get(f"{BASE}?cursor=nonsense", headers=ADMIN), 422)


async def test_a_locale_without_wording_falls_back_to_its_language_then_english(client):
    italian = (await client.get(f"{BASE}/public_reply/it-IT", headers=ADMIN)).json()
    assert (italian["locale"], italian["source_locale"], italian["source"]) == (
        "it-IT",
        "it",
        "builtin",
    )
    brazilian = await client.get(f"{BASE}/public_reply/PT-br", headers=ADMIN)
    assert brazilian.headers["etag"]
    assert (brazilian.json()["locale"], brazilian.json()["source_locale"]) == ("pt-BR", "en")


async def test_override_preview_and_reset(client, database_url):
    saved = await _put(client)
    assert saved.status_code == 200, saved.text
    assert saved.json()["customised"] is True
    assert saved.json()["source"] == "custom"
    regional = (await client.get(f"{BASE}/public_reply/it-CH", headers=ADMIN)).json()
    assert (regional["source"], regional["source_locale"], regional["customised"]) == (
        "custom",
        "it",
        False,
    )
    preview = await client.post(f"{REPLY_IT}/preview", json={}, headers=ADMIN)
    assert preview.status_code == 200, preview.text
    assert preview.json()["subject"].startswith("[#1234] Risposta: La fattura")
    assert preview.json()["text"].startswith("Ciao Giulia Rossi,\nBuongiorno Giulia,")
    assert preview.json()["source"] == "custom"

    reset = await client.delete(REPLY_IT, headers={**ADMIN, "If-Match": saved.headers["etag"]})
    assert reset.status_code == 204
    back = (await client.get(REPLY_IT, headers=ADMIN)).json()
    assert (back["source"], back["customised"], back["updated_at"]) == ("builtin", False, None)
    assert (await client.delete(REPLY_IT, headers=ADMIN)).status_code == 204

    events = await _events(database_url)
    assert [kind for kind, _ in events] == [
        "notification_template.created",
        "notification_template.deleted",
    ]
    assert events[1][1]["notification_template"]["subject"] == OVERRIDE["subject"]


async def test_a_second_put_updates_and_if_match_guards_it(client, database_url):
    first = await _put(client)
    etag = first.headers["etag"]
    same = await _put(client, **{"If-Match": etag})
    assert same.headers["etag"] == etag  # nothing changed
    changed = await _put(client, body={**OVERRIDE, "html_body": None}, **{"If-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["html_body"] is None
    assert changed.headers["etag"] != etag
    assert_problem(await _put(client, **{"If-Match": etag}), 412)
    assert_problem(await client.delete(REPLY_IT, headers={**ADMIN, "If-Match": etag}), 412)
    builtin_etag = (await client.get(f"{BASE}/public_reply/ro", headers=ADMIN)).headers["etag"]
    assert (await _put(client, f"{BASE}/public_reply/ro", **{"If-Match": builtin_etag})).is_success
    assert_problem(await _put(client, f"{BASE}/public_reply/hu", **{"If-Match": etag}), 412)
    updates = [data for kind, data in await _events(database_url) if kind.endswith(".updated")]
    assert [update["changes"] for update in updates] == [
        [{"field": "html_body", "from": OVERRIDE["html_body"], "to": None}]
    ]


async def test_a_syntax_error_is_a_422_naming_the_part_and_line(client):
    body = {**OVERRIDE, "text_body": "Ciao\n{{ recipient.name }\n"}
    problem = assert_problem(await _put(client, body=body), 422)
    [error] = problem["errors"]
    assert error["loc"] == ["body", "text_body"]
    assert "line 2" in error["msg"]
    assert error["type"] == "template_syntax"
    assert (await client.get(REPLY_IT, headers=ADMIN)).json()["customised"] is False


@pytest.mark.parametrize(
    "text_body",
    [
        "{{ ''.__class__.__mro__ }}",
        "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
        "{{ recipient.nmae }}",
        "{{ comment.body|center(80) }}",
    ],
)
async def test_a_template_that_cannot_be_used_is_refused_when_saved(client, text_body):
    problem = assert_problem(await _put(client, body={**OVERRIDE, "text_body": text_body}), 422)
    assert problem["errors"][0]["loc"] == ["body", "text_body"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"{BASE}/no_such_event/it", OVERRIDE),
        (f"{BASE}/public_reply/italian!", OVERRIDE),
        (f"{BASE}/public_reply/x", OVERRIDE),
        (REPLY_IT, {**OVERRIDE, "subject": "Risposta: {{ ticket.subject }}"}),  # no [#id]
        (REPLY_IT, {**OVERRIDE, "subject": "   "}),
        (REPLY_IT, {**OVERRIDE, "text_body": "a\x00b"}),
        (REPLY_IT, {**OVERRIDE, "extra": 1}),
        (REPLY_IT, {"subject": OVERRIDE["subject"]}),
    ],
)
async def test_bad_puts_are_422(client, path, body):
    assert_problem(await client.put(path, json=body, headers=ADMIN), 422)


async def test_preview_of_a_draft_about_a_real_ticket(client):
    ticket = await make_ticket(client, subject="Stampante <in fiamme>")
    body = {"text_body": "{{ ticket.subject }} / {{ comment.body }}", "ticket_id": ticket["id"]}
    preview = await client.post(f"{BASE}/acknowledgement/it/preview", json=body, headers=ADMIN)
    assert preview.status_code == 200, preview.text
    result = preview.json()
    assert result["text"] == "Stampante <in fiamme> / It is on fire."
    assert result["subject"].startswith(f"[#{ticket['id']}] Abbiamo ricevuto")
    assert "Stampante &lt;in fiamme&gt;" in result["html"]
    assert (result["source"], result["ticket_id"]) == ("custom", ticket["id"])
    assert (await client.get(f"{BASE}/acknowledgement/it", headers=ADMIN)).json()["source"] == (
        "builtin"
    )  # a preview saves nothing
    broken = {"text_body": "{% if %}", "ticket_id": ticket["id"]}
    problem = assert_problem(
        await client.post(f"{BASE}/acknowledgement/it/preview", json=broken, headers=ADMIN), 422
    )
    assert problem["errors"][0]["loc"] == ["body", "text_body"]
    missing = {"ticket_id": ticket["id"] + 1000}
    assert_problem(
        await client.post(f"{BASE}/ticket_created/en/preview", json=missing, headers=ADMIN), 404
    )
    agent_notice = await client.post(
        f"{BASE}/ticket_created/en/preview", json={"ticket_id": ticket["id"]}, headers=ADMIN
    )
    assert "Requester: " in agent_notice.json()["text"]
    assert "It is on fire." in agent_notice.json()["text"]


async def test_only_admins_manage_notification_templates(client):
    for role in ("agent", "light_agent", "customer"):
        _, headers = await make_user_with_token(client, role=role)
        assert_problem(await client.get(BASE, headers=headers), 403)
        assert_problem(await client.get(REPLY_IT, headers=headers), 403)
        assert_problem(await client.put(REPLY_IT, json=OVERRIDE, headers=headers), 403)
        assert_problem(await client.delete(REPLY_IT, headers=headers), 403)
        assert_problem(await client.post(f"{REPLY_IT}/preview", json={}, headers=headers), 403)
    assert_problem(await client.get(BASE), 401)


async def test_render_uses_the_override_of_the_language_and_falls_back_when_it_breaks(
    client, app, caplog
):
    await _put(client)
    context = sample_context(NotificationEvent.public_reply, "it-IT")
    async with app.state.sessionmaker() as session:
        rendered = await render(session, NotificationEvent.public_reply, "it-IT", context)
        assert rendered.origin is TemplateOrigin.custom
        assert rendered.locale == "it"
        assert rendered.text.startswith("Ciao Giulia Rossi,")
        # A row no save would accept (written behind the API's back) must not stop a send.
        await session.execute(
            insert(NotificationTemplate).values(
                event="status_changed",
                locale="ru",
                subject="[#{{ ticket.id }}]",
                text_body="{% for a in range(999) %}{% for b in range(999) %}{% endfor %}"
                "{% endfor %}",
                html_body=None,
            )
        )
        context = sample_context(NotificationEvent.status_changed, "ru")
        with caplog.at_level(logging.WARNING, logger="helpdesk_api.notifications"):
            fallback = await render(session, NotificationEvent.status_changed, "ru", context)
        assert fallback.origin is TemplateOrigin.builtin
        assert fallback.subject.startswith("[#1234] Статус обращения изменён")
        assert any("built-in wording was used" in r.message for r in caplog.records)
        await session.rollback()


async def test_build_context_reads_the_ticket_and_keeps_private_notes_from_customers(
    client, app, database_url
):
    ticket = await make_ticket(client, subject="Printer offline")
    note = await comment(client, ticket["id"], ADMIN, body="Internal: toner", public=False)
    settings = make_settings(
        database_url,
        notification_portal_url="https://help.example.com/requests/{id}",
        notification_agent_url="https://desk.example.com/tickets/{id}",
    )
    async with app.state.sessionmaker() as session:
        row = await session.get(Ticket, ticket["id"])
        private = await session.get(TicketComment, note.json()["id"])
        assert row is not None
        assert private is not None
        requester = await session.get(User, row.requester_id)
        assert requester is not None
        with pytest.raises(ValueError, match="private note"):
            await build_context(
                session,
                settings,
                event=NotificationEvent.public_reply,
                ticket=row,
                recipient=requester,
                comment=private,
            )
        staff = await build_context(
            session,
            settings,
            event=NotificationEvent.ticket_created,
            ticket=row,
            recipient=requester,
            comment=private,
            locale="hu-HU",
        )
    assert staff.ticket.url == f"https://desk.example.com/tickets/{ticket['id']}"
    assert staff.ticket.subject == "Printer offline"
    assert staff.recipient.locale == "hu-HU"
    assert staff.comment is not None
    assert staff.comment.html == "<p>Internal: toner</p>"
