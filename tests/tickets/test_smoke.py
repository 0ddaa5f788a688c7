from tests.factories import ADMIN, make_user_with_token
from tests.tickets.factories import make_ticket


async def test_create_read_comment_list(client):
    customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=customer["id"], tags=["Billing", "vip"])
    assert ticket["status"]["category"] == "new"
    assert ticket["tags"] == ["billing", "vip"]
    note = await client.post(
        f"/v1/tickets/{ticket['id']}/comments",
        json={"body": "secret", "public": False},
        headers=ADMIN,
    )
    assert note.status_code == 201, note.text
    reply = await client.post(
        f"/v1/tickets/{ticket['id']}/comments", json={"body": "hello"}, headers=ADMIN
    )
    assert reply.status_code == 201
    got = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()
    assert got["status"]["category"] == "open"
    mine = await client.get(f"/v1/tickets/{ticket['id']}/comments", headers=customer_headers)
    assert "secret" not in mine.text
    assert len(mine.json()["data"]) == 2
    listing = await client.get("/v1/tickets?q=secret", headers=customer_headers)
    assert listing.json()["data"] == []
    staff = await client.get("/v1/tickets?q=secret", headers=ADMIN)
    assert [t["id"] for t in staff.json()["data"]] == [ticket["id"]]
    audits = await client.get(f"/v1/tickets/{ticket['id']}/audits", headers=ADMIN)
    assert len(audits.json()["data"]) == 3
    tags = await client.get("/v1/tags", headers=ADMIN)
    assert tags.json()["data"] == [
        {"name": "billing", "ticket_count": 1},
        {"name": "vip", "ticket_count": 1},
    ]
