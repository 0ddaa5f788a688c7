"""Admins' channels: secrets shown once, kinds' own settings checked, nothing for others."""

from tests.channels.factories import make_channel
from tests.factories import ADMIN, assert_problem, make_user_with_token


async def test_a_channels_secrets_are_shown_once_and_never_again(client):
    created = await make_channel(client, "chat", webhook_url="http://127.0.0.1:9/replies")
    assert created["secret"].startswith("hdch_")
    assert created["webhook_secret"].startswith("whsec_")
    read = await client.get(f"/v1/channels/{created['id']}", headers=ADMIN)
    listed = await client.get("/v1/channels", headers=ADMIN)
    patched = await client.patch(
        f"/v1/channels/{created['id']}",
        json={"name": "Website chat", "reopen_window_minutes": 30},
        headers={**ADMIN, "If-Match": read.headers["ETag"]},
    )
    events = await client.get("/v1/events?type=channel.created&type=channel.updated", headers=ADMIN)
    for response in (read, listed, patched, events):
        assert response.status_code == 200, response.text
        assert created["secret"] not in response.text
        assert created["webhook_secret"] not in response.text
    assert patched.json()["name"] == "Website chat"
    assert patched.json()["reopen_window_minutes"] == 30
    assert [c["id"] for c in listed.json()["data"]] == [created["id"]]
    stale = await client.patch(
        f"/v1/channels/{created['id']}",
        json={"active": False},
        headers={**ADMIN, "If-Match": read.headers["ETag"]},
    )
    assert_problem(stale, 412)


async def test_telegram_token_is_write_only_and_kinds_keep_to_their_settings(client):
    token = "123456:AAE-secret_bot_token"
    telegram = await make_channel(client, "telegram", telegram_bot_token=token)
    assert telegram["telegram_bot_token_set"] is True
    assert telegram["webhook_secret"] is None
    assert telegram["telegram_api_base_url"] == "https://api.telegram.org"
    read = await client.get(f"/v1/channels/{telegram['id']}", headers=ADMIN)
    assert token not in read.text
    assert token not in telegram["secret"]
    refused = [
        {"kind": "telegram", "name": "No token"},
        {"kind": "chat", "name": "Chat", "telegram_bot_token": token},
        {"kind": "alertmanager", "name": "AM", "webhook_url": "http://127.0.0.1:9/x"},
        {"kind": "chat", "name": "Chat", "webhook_url": "ftp://example.com/x"},
        {"kind": "fax", "name": "Fax"},
        {"kind": "chat", "name": "Chat", "reopen_window_minutes": 0},
        {"kind": "telegram", "name": "Bad", "telegram_bot_token": "not a token"},
    ]
    for body in refused:
        assert_problem(await client.post("/v1/channels", json=body, headers=ADMIN), 422)


async def test_only_admins_manage_channels(client):
    channel = await make_channel(client)
    for role in ("agent", "customer"):
        _, headers = await make_user_with_token(client, role=role)
        assert_problem(await client.get("/v1/channels", headers=headers), 403)
        assert_problem(await client.get(f"/v1/channels/{channel['id']}", headers=headers), 403)
        response = await client.post(
            "/v1/channels", json={"kind": "chat", "name": "x"}, headers=headers
        )
        assert_problem(response, 403)
