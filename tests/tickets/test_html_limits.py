"""Client HTML is cleaned on the way in; HTML too large to clean quickly is refused."""

from helpdesk_api.core.html import MAX_TAGS
from tests.factories import ADMIN, assert_problem


async def test_deeply_nested_html_is_refused_not_cleaned_for_seconds(client):
    nested = "<div>" * 40_000 + "x" + "</div>" * 40_000
    response = await client.post(
        "/v1/tickets",
        json={"subject": "Nested", "comment": {"html_body": nested[:262_144]}},
        headers=ADMIN,
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][-1] == "html_body"


async def test_html_up_to_the_tag_limit_is_accepted_and_cleaned(client):
    rows = "<p>row</p>" * (MAX_TAGS // 2 - 1) + "<script>alert(1)</script>"
    response = await client.post(
        "/v1/tickets", json={"subject": "Long", "comment": {"html_body": rows}}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    comments = await client.get(f"/v1/tickets/{response.json()['id']}/comments", headers=ADMIN)
    assert "<script" not in comments.json()["data"][0]["html_body"]
