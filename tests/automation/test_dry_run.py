"""``POST /v1/triggers/dry-run``: every active trigger (inactive ones if asked) explained
against a ticket, with what it would change, and nothing written."""

from typing import Any

from tests.factories import ADMIN, assert_problem
from tests.tickets.factories import audits, get_ticket, make_group, make_ticket


async def create(client, title: str, conditions: dict[str, Any], actions: list[Any]) -> int:
    body = {"title": title, "conditions": conditions, "actions": actions}
    response = await client.post("/v1/triggers", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def dry_run(client, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/triggers/dry-run", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_explains_each_condition_and_the_chain_of_changes_without_writing(client):
    ticket = await make_ticket(client, subject="Printer jam")
    before = await get_ticket(client, ticket["id"])
    before_audits = await audits(client, ticket["id"])
    tier2 = await make_group(client, "Tier 2")
    vip = await create(
        client,
        "VIP words are urgent",
        {"all": [{"field": "comment_text", "operator": "contains_words", "value": "contract"}]},
        [{"action": "set_priority", "priority": "urgent"}],
    )
    escalate = await create(
        client,
        "Urgent goes to tier 2",
        {"all": [{"field": "priority", "operator": "changed_to", "value": "urgent"}]},
        [{"action": "set_group", "group_id": tier2["id"]}, {"action": "add_tags", "tags": ["t2"]}],
    )
    never = await create(
        client,
        "Phone only",
        {"all": [{"field": "via", "operator": "is", "value": "phone"}]},
        [{"action": "add_tags", "tags": ["phone"]}],
    )

    result = await dry_run(
        client,
        ticket_id=ticket["id"],
        change={"comment": {"body": "Our contract says four hours!", "public": True}},
    )

    assert result["fired"] == [vip, escalate]
    assert result["passes"] == 3
    assert result["loop_stopped"] is False
    outcomes = {t["id"]: t for t in result["triggers"]}
    ours = [t["id"] for t in result["triggers"] if t["id"] in (vip, escalate, never)]
    assert ours == [vip, escalate, never]
    assert outcomes[vip]["changes"] == [{"action": "set_priority", "kind": "field",
        "field": "priority", "before": "normal", "after": "urgent", "error": None}]  # fmt: skip
    condition = outcomes[escalate]["conditions"][0]
    assert condition["held"] is True
    assert condition["expected"] == "urgent"
    assert condition["actual"] == {"changed": True, "from": "normal", "to": "urgent"}
    phone = outcomes[never]
    assert phone["fired"] is False
    assert phone["matched"] is False
    assert phone["conditions"][0] | {"index": 0} == {"group": "all", "index": 0, "field": "via",
        "operator": "is", "expected": "phone", "actual": "api", "held": False}  # fmt: skip
    assert result["ticket"]["priority"] == "urgent"
    assert result["ticket"]["group_id"] == tier2["id"]
    assert result["ticket"]["tags"] == ["t2"]

    assert await get_ticket(client, ticket["id"]) == before
    assert await audits(client, ticket["id"]) == before_audits


async def test_a_draft_is_tried_only_when_inactive_triggers_are_asked_for(client):
    ticket = await make_ticket(client, subject="Printer jam")
    draft = await create(
        client,
        "Draft: printers are high",
        {"all": [{"field": "subject", "operator": "contains_words", "value": "printer"}]},
        [{"action": "set_priority", "priority": "high"}],
    )
    patched = await client.patch(f"/v1/triggers/{draft}", json={"active": False}, headers=ADMIN)
    assert patched.status_code == 200, patched.text

    plain = await dry_run(client, ticket_id=ticket["id"])
    assert draft not in [t["id"] for t in plain["triggers"]]
    assert all(t["active"] for t in plain["triggers"])

    tried = await dry_run(client, ticket_id=ticket["id"], include_inactive=True)
    assert tried["fired"] == [draft]
    [outcome] = [t for t in tried["triggers"] if t["id"] == draft]
    assert outcome["active"] is False
    assert tried["ticket"]["priority"] == "high"
    assert (await get_ticket(client, ticket["id"]))["priority"] == "normal"


async def test_a_hypothetical_field_change_and_an_unusable_action(client):
    ticket = await make_ticket(client, subject="Hello")
    group = await make_group(client, "Soon gone")
    trigger = await create(
        client,
        "High goes to the group",
        {"all": [{"field": "priority", "operator": "changed_to", "value": "high"}]},
        [{"action": "set_group", "group_id": group["id"]}],
    )
    await client.delete(f"/v1/groups/{group['id']}", headers=ADMIN)

    result = await dry_run(client, ticket_id=ticket["id"], change={"priority": "high"})

    assert result["fired"] == [trigger]
    [outcome] = [t for t in result["triggers"] if t["id"] == trigger]
    change = outcome["changes"][0]
    assert change["field"] == "group_id"
    assert "does not exist" in change["error"]
    assert result["ticket"]["group_id"] is None
    assert result["ticket"]["priority"] == "high"


async def test_bad_dry_run_requests(client):
    assert_problem(await client.post("/v1/triggers/dry-run", json={}, headers=ADMIN), 422)
    missing = await client.post("/v1/triggers/dry-run", json={"ticket_id": 999_999}, headers=ADMIN)
    assert_problem(missing, 404)
    ticket = await make_ticket(client)
    for change, loc in (
        ({"status_id": 999_999}, ["body", "change", "status_id"]),
        ({"tags": [" "]}, ["body", "change", "tags", 0]),
        ({"priority": "huge"}, ["body", "change", "priority"]),
        ({"sla_events": ["first_reply.late"]}, ["body", "change", "sla_events", 0]),
    ):
        response = await client.post(
            "/v1/triggers/dry-run", json={"ticket_id": ticket["id"], "change": change},
            headers=ADMIN,
        )  # fmt: skip
        assert assert_problem(response, 422)["errors"][0]["loc"][: len(loc)] == loc
