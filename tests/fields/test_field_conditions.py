"""``custom_field.<key>`` in triggers and saved views: checked against the definitions when
saved, stored canonical, and meaning the same in the engine and in SQL."""

from typing import Any

import httpx

from tests.factories import ADMIN, make_user_with_token
from tests.fields.helpers import error_locs, make_field
from tests.tickets.factories import make_ticket


def _is(key: str, value: Any, operator: str = "is") -> dict[str, Any]:
    return {"field": f"custom_field.{key}", "operator": operator, "value": value}


async def _ids(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[int]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["data"]]


async def test_a_trigger_fires_on_a_field_value(client):
    await make_field(client, key="vip", type="checkbox")
    await make_field(client, key="price", type="decimal")
    await make_field(client, key="areas", type="multiselect", options=[
        {"value": "mail", "title": "Mail"}, {"value": "web", "title": "Web"}])  # fmt: skip
    body = {
        "title": "VIPs on mail are urgent",
        "conditions": {"all": [_is("vip", True), _is("areas", "mail"), _is("price", "10.00")]},
        "actions": [{"action": "set_priority", "priority": "urgent"}],
    }
    created = await client.post("/v1/triggers", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["conditions"]["all"][2]["value"] == "10"  # stored canonical
    hit = await make_ticket(client, custom_fields={"vip": True, "areas": ["web", "mail"],
                                                   "price": 10})  # fmt: skip
    miss = await make_ticket(client, custom_fields={"vip": True, "areas": ["web"], "price": 10})
    assert (hit["priority"], miss["priority"]) == ("urgent", "normal")

    for conditions, loc in (
        ({"all": [_is("nope", 1)]}, ["body", "conditions", "all", 0, "field"]),
        ({"all": [_is("vip", "yes")]}, ["body", "conditions", "all", 0, "value"]),
        ({"any": [_is("price", "ten")]}, ["body", "conditions", "any", 0, "value"]),
        ({"all": [_is("vip", True, "in")]}, ["body", "conditions", "all", 0, "operator"]),
        ({"all": [_is("vip", [True])]}, ["body", "conditions", "all", 0, "value"]),
        ({"all": [{"field": "custom_field.Bad", "operator": "is", "value": 1}]},
         ["body", "conditions", "all", 0, "field"]),
    ):  # fmt: skip
        refused = await client.post("/v1/triggers", headers=ADMIN,
                                    json={**body, "conditions": conditions})  # fmt: skip
        assert any(loc == found[: len(loc)] for found in error_locs(refused)), refused.text


async def test_a_view_lists_and_counts_by_field_values(client):
    _, agent = await make_user_with_token(client, role="agent")
    await make_field(client, key="seats", type="integer")
    await make_field(client, key="areas", type="multiselect", options=[
        {"value": "mail", "title": "Mail"}, {"value": "web", "title": "Web"}])  # fmt: skip
    big = await make_ticket(client, custom_fields={"seats": 50, "areas": ["mail"]})
    small = await make_ticket(client, custom_fields={"seats": 5, "areas": ["mail", "web"]})
    bare = await make_ticket(client)
    for conditions, expected in (
        ({"all": [_is("seats", 50)]}, [big]),
        ({"all": [_is("areas", "web")]}, [small]),
        ({"all": [_is("areas", "web", "is_not")]}, [bare, big]),
        ({"all": [_is("seats", None)]}, [bare]),
        ({"any": [_is("seats", 5), _is("seats", 50)]}, [small, big]),
    ):
        created = await client.post("/v1/views", headers=agent, json={
            "title": "By field", "visibility": "personal", "conditions": conditions})  # fmt: skip
        assert created.status_code == 201, created.text
        view_id = created.json()["id"]
        want = [t["id"] for t in expected]
        assert await _ids(client, f"/v1/views/{view_id}/tickets", agent) == want, conditions
        counts = await client.get("/v1/views/counts", params={"ids": view_id}, headers=agent)
        assert counts.json()["data"][0]["count"] == len(want)
    refused = await client.post(
        "/v1/views",
        headers=agent,
        json={
            "title": "x",
            "visibility": "personal",
            "conditions": {"all": [_is("seats", "many")]},
        },
    )
    assert error_locs(refused) == [["body", "conditions", "all", 0, "value"]]
