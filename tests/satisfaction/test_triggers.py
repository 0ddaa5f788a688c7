"""A rating is a change of the ticket: triggers see it through the ``satisfaction`` field."""

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.satisfaction.helpers import set_status
from tests.tickets.factories import get_ticket, make_ticket

UNHAPPY = {
    "title": "Unhappy customers go to the lead",
    "conditions": {"all": [
        {"field": "satisfaction", "operator": "changed_to", "value": "bad"},
    ]},
    "actions": [{"action": "add_tags", "tags": ["unhappy"]},
                {"action": "set_priority", "priority": "high"}],
}  # fmt: skip


async def test_a_bad_rating_fires_a_satisfaction_trigger_and_a_good_one_does_not(client, clock):
    created = await client.post("/v1/triggers", json=UNHAPPY, headers=ADMIN)
    assert created.status_code == 201, created.text
    _, customer = await make_user_with_token(client)
    happy = (await make_ticket(client, customer))["id"]
    unhappy = (await make_ticket(client, customer))["id"]
    for ticket_id in (happy, unhappy):
        await set_status(client, ticket_id, "solved")

    for ticket_id, score in ((happy, "good"), (unhappy, "bad")):
        rated = await client.put(
            f"/v1/tickets/{ticket_id}/satisfaction", json={"score": score}, headers=customer
        )
        assert rated.status_code == 200, rated.text

    assert (await get_ticket(client, happy))["tags"] == []
    ticket = await get_ticket(client, unhappy)
    assert (ticket["tags"], ticket["priority"]) == (["unhappy"], "high")
    audits = (await client.get(f"/v1/tickets/{unhappy}/audits", headers=ADMIN)).json()["data"]
    note = {"field": "trigger", "from": None,
            "to": {"id": created.json()["id"], "title": UNHAPPY["title"]}}  # fmt: skip
    # Once, on the rating: the trigger's own change is not a rating.
    assert [a["via"] for a in audits if note in a["changes"]] == ["trigger"]


async def test_a_satisfaction_condition_takes_good_bad_or_none_only(client):
    for value, operator in (("meh", "is"), (3, "is"), ("bad", "includes_any")):
        rule = {**UNHAPPY, "conditions": {"all": [
            {"field": "satisfaction", "operator": operator, "value": value}]}}  # fmt: skip
        body = assert_problem(await client.post("/v1/triggers", json=rule, headers=ADMIN), 422)
        assert body["errors"][0]["loc"][:3] == ["body", "conditions", "all"], body
    unrated = {**UNHAPPY, "conditions": {"all": [
        {"field": "satisfaction", "operator": "is", "value": None}]}}  # fmt: skip
    assert (await client.post("/v1/triggers", json=unrated, headers=ADMIN)).status_code == 201
