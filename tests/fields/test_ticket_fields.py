"""Ticket fields through the API: definitions, values by type, requirements, history."""

from typing import Any

from tests.factories import ADMIN, assert_problem, feed_once_visible, make_user_with_token
from tests.fields.helpers import error_locs, make_field
from tests.tickets.factories import get_ticket, make_ticket, status_id

CASES: list[tuple[dict[str, Any], Any, Any, Any]] = [
    # definition, a good value, how it is stored, a bad value
    ({"type": "text"}, "ACME-1", "ACME-1", "two\nlines"),
    ({"type": "textarea"}, "a\nb", "a\nb", 5),
    ({"type": "integer"}, 42, 42, "42"),
    ({"type": "decimal"}, "12.50", "12.5", "twelve"),
    ({"type": "decimal"}, -0.25, "-0.25", "1e999999"),
    ({"type": "date"}, "2026-02-28", "2026-02-28", "2026-02-30"),
    ({"type": "checkbox"}, True, True, "yes"),
    ({"type": "dropdown", "options": [{"value": "eu", "title": "Europe"}]}, "eu", "eu", "us"),
    (
        {"type": "multiselect", "options": [{"value": "a", "title": "A"},
                                            {"value": "b", "title": "B"}]},
        ["b", "a", "b"], ["b", "a"], ["c"],
    ),
    ({"type": "regex", "pattern": r"[A-Z]{3}-\d+"}, "ABC-12", "ABC-12", "abc-12"),
]  # fmt: skip


async def test_every_type_validates_and_stores_its_values(client):
    for index, (definition, *_) in enumerate(CASES):
        await make_field(client, key=f"f{index}", **definition)
    values = {f"f{i}": good for i, (_, good, _, _) in enumerate(CASES)}
    ticket = await make_ticket(client, custom_fields=values)
    assert ticket["custom_fields"] == {f"f{i}": s for i, (_, _, s, _) in enumerate(CASES)}
    for index, (_, _, _, bad) in enumerate(CASES):
        refused = await client.patch(
            f"/v1/tickets/{ticket['id']}", json={"custom_fields": {f"f{index}": bad}},
            headers=ADMIN,
        )  # fmt: skip
        assert error_locs(refused) == [["body", "custom_fields", f"f{index}"]], index
    unknown = await client.patch(f"/v1/tickets/{ticket['id']}",
                                 json={"custom_fields": {"nope": 1}}, headers=ADMIN)  # fmt: skip
    assert error_locs(unknown) == [["body", "custom_fields", "nope"]]
    # Nothing was written by the refused changes; null clears one value.
    cleared = await client.patch(f"/v1/tickets/{ticket['id']}",
                                 json={"custom_fields": {"f0": None}}, headers=ADMIN)  # fmt: skip
    assert cleared.status_code == 200, cleared.text
    assert "f0" not in cleared.json()["custom_fields"]
    assert cleared.json()["custom_fields"]["f2"] == 42
    audits = (await client.get(f"/v1/tickets/{ticket['id']}/audits", headers=ADMIN)).json()
    assert {"field": "custom_fields.f0", "from": "ACME-1", "to": None} in audits["data"][-1][
        "changes"
    ]
    created = audits["data"][0]["changes"]
    assert {"field": "custom_fields.f2", "from": None, "to": 42} in created
    updated = await feed_once_visible(client, "/v1/events?type=ticket.updated", ADMIN)
    assert updated[-1]["data"]["changes"] == [
        {"field": "custom_fields.f0", "from": "ACME-1", "to": None}
    ]


async def test_definitions_admin_writes_staff_reads_with_etags_and_events(client):
    _, agent = await make_user_with_token(client, role="agent")
    _, customer = await make_user_with_token(client)
    body = {"key": "plan", "title": "Plan", "type": "dropdown",
            "options": [{"value": "pro", "title": "Pro"}]}  # fmt: skip
    assert_problem(await client.post("/v1/ticket-fields", json=body, headers=agent), 403)
    field = await make_field(client, **body)
    assert (field["position"], field["active"], field["required_for"]) == (0, True, [])
    assert_problem(await client.post("/v1/ticket-fields", json=body, headers=ADMIN), 409)
    listed = await client.get("/v1/ticket-fields", headers=agent)
    assert [f["key"] for f in listed.json()["data"]] == ["plan"]
    assert_problem(await client.get("/v1/ticket-fields", headers=customer), 403)
    # A ticket field is not a user field.
    assert_problem(await client.get(f"/v1/user-fields/{field['id']}", headers=ADMIN), 404)

    path = f"/v1/ticket-fields/{field['id']}"
    etag = (await client.get(path, headers=agent)).headers["etag"]
    renamed = await client.patch(path, headers={**ADMIN, "If-Match": etag}, json={
        "options": [{"value": "pro", "title": "Professional"}]})  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    stale = await client.patch(path, json={"title": "x"}, headers={**ADMIN, "If-Match": etag})
    assert_problem(stale, 412)
    assert_problem(await client.patch(path, json={"title": "x"}, headers=agent), 403)
    for bad, loc in (
        ({"type": "dropdown"}, ["body", "options"]),
        ({"type": "text", "options": [{"value": "a", "title": "A"}]}, ["body", "options"]),
        ({"type": "regex", "pattern": "("}, ["body", "pattern"]),
        ({"type": "text", "pattern": "a"}, ["body", "pattern"]),
        ({"type": "dropdown", "options": [{"value": "a", "title": "A"}] * 2},
         ["body", "options", 1, "value"]),
        ({"type": "nope"}, ["body", "type"]),
        ({"type": "text", "required_for": ["later"]}, ["body", "required_for", 0]),
    ):  # fmt: skip
        response = await client.post("/v1/ticket-fields", json={"key": "k", "title": "K", **bad},
                                     headers=ADMIN)  # fmt: skip
        assert loc in error_locs(response), (bad, response.text)
    assert error_locs(await client.patch(path, json={"type": "text"}, headers=ADMIN)) == [
        ["body", "type"]
    ]
    assert error_locs(await client.post("/v1/ticket-fields", headers=ADMIN, json={
        "key": "Bad Key", "title": "K", "type": "text"})) == [["body", "key"]]  # fmt: skip
    events = await feed_once_visible(client, "/v1/events?type=ticket_field.updated", agent)
    assert events[0]["data"]["changes"][0]["field"] == "options"


async def test_renamed_options_and_retired_fields_keep_stored_values(client):
    field = await make_field(client, key="region", type="dropdown", options=[
        {"value": "eu", "title": "Europe"}, {"value": "us", "title": "Americas"}])  # fmt: skip
    ticket = await make_ticket(client, custom_fields={"region": "eu"})
    path = f"/v1/ticket-fields/{field['id']}"
    dropped = await client.patch(path, json={"options": [{"value": "us", "title": "US"}]},
                                 headers=ADMIN)  # fmt: skip
    assert dropped.status_code == 200, dropped.text
    assert (await get_ticket(client, ticket["id"]))["custom_fields"] == {"region": "eu"}
    # New writes take only listed options; the list filter still finds the old value.
    refused = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"custom_fields": {"region": "eu"}}, headers=ADMIN
    )
    assert error_locs(refused) == [["body", "custom_fields", "region"]]
    found = await client.get("/v1/tickets", params={"custom_field": "region:eu"}, headers=ADMIN)
    assert [t["id"] for t in found.json()["data"]] == [ticket["id"]]

    retired = await client.patch(path, json={"active": False}, headers=ADMIN)
    assert retired.status_code == 200
    assert retired.json()["active"] is False
    assert (await get_ticket(client, ticket["id"]))["custom_fields"] == {"region": "eu"}
    refused = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"custom_fields": {"region": "us"}}, headers=ADMIN
    )
    assert error_locs(refused) == [["body", "custom_fields", "region"]]
    # Other changes to the ticket keep the retired field's value.
    changed = await client.patch(f"/v1/tickets/{ticket['id']}", json={"subject": "New"},
                                 headers=ADMIN)  # fmt: skip
    assert changed.json()["custom_fields"] == {"region": "eu"}


async def test_required_fields_hold_a_ticket_back_from_their_status_categories(client):
    await make_field(client, key="cause", type="text", required_for=["solved"])
    await make_field(client, key="team_note", type="text", required_for=["solved"],
                     agent_only=True)  # fmt: skip
    ticket = await make_ticket(client)
    solved = await status_id(client, "solved")
    path = f"/v1/tickets/{ticket['id']}"
    refused = await client.patch(path, json={"status_id": solved}, headers=ADMIN)
    assert error_locs(refused) == [["body", "custom_fields", "cause"]]
    assert (await get_ticket(client, ticket["id"]))["status"]["category"] == "new"
    partly = await client.patch(
        path, json={"status_id": solved, "custom_fields": {"cause": "Toner"}}, headers=ADMIN
    )
    assert error_locs(partly) == [["body", "custom_fields", "team_note"]]
    done = await client.patch(path, headers=ADMIN, json={
        "status_id": solved, "custom_fields": {"cause": "Toner", "team_note": "ok"}})  # fmt: skip
    assert done.status_code == 200, done.text
    # On create too.
    opened = await client.post("/v1/tickets", headers=ADMIN, json={
        "subject": "s", "comment": {"body": "b"}, "status_id": solved})  # fmt: skip
    assert error_locs(opened) == [["body", "custom_fields", "cause"]]


async def test_the_ticket_list_filters_by_field_values_as_their_types(client):
    await make_field(client, key="seats", type="integer")
    await make_field(client, key="vip", type="checkbox")
    await make_field(client, key="price", type="decimal")
    await make_field(client, key="areas", type="multiselect", options=[
        {"value": "mail", "title": "Mail"}, {"value": "web", "title": "Web"}])  # fmt: skip
    first = await make_ticket(client, custom_fields={
        "seats": 5, "vip": True, "price": "9.90", "areas": ["mail", "web"]})  # fmt: skip
    second = await make_ticket(client, custom_fields={"seats": 50, "vip": False,
                                                      "areas": ["web"]})  # fmt: skip

    async def ids(*pairs: str) -> list[int]:
        response = await client.get("/v1/tickets", params={"custom_field": list(pairs)},
                                    headers=ADMIN)  # fmt: skip
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["data"]]

    assert await ids("seats:5") == [first["id"]]
    assert await ids("vip:false") == [second["id"]]
    assert await ids("price:9.9") == [first["id"]]
    assert await ids("areas:web") == [second["id"], first["id"]]
    assert await ids("areas:web", "seats:50") == [second["id"]]
    assert await ids("areas:gone") == []
    for bad, index in ((["seats:five"], 0), (["seats:5", "nope:1"], 1), (["seats"], 0)):
        response = await client.get("/v1/tickets", params={"custom_field": bad}, headers=ADMIN)
        assert error_locs(response) == [["query", "custom_field", index]], bad
