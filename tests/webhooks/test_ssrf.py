"""The SSRF guard: IPv6 forms that lead to a private IPv4 address are as private as it is."""

import ipaddress

import pytest

from helpdesk_api.webhooks.ssrf import UnsafeDestination, resolve_destination
from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem

# Each form wraps a private or special IPv4 address that the plain check would miss.
EMBEDDING_PRIVATE = {
    "nat64 loopback": "64:ff9b::7f00:1",
    "nat64 metadata": "64:ff9b::a9fe:a9fe",
    "nat64 local-use prefix": "64:ff9b:1::808:808",
    "6to4 loopback": "2002:7f00:1::1",
    "6to4 private": "2002:a00:1::1",
    "ipv4-compatible loopback": "::127.0.0.1",
    "ipv4-compatible private": "::192.168.1.1",
    "teredo to loopback": "2001:0:808:808::80ff:fffe",
    "ipv4-mapped private": "::ffff:10.0.0.1",
}
EMBEDDING_PUBLIC = ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2606:4700::1111"]


@pytest.mark.parametrize("address", EMBEDDING_PRIVATE.values(), ids=EMBEDDING_PRIVATE.keys())
async def test_ipv6_forms_of_private_ipv4_are_refused(address):
    with pytest.raises(UnsafeDestination):
        await resolve_destination(f"http://[{address}]/hook", allow_private=False)


@pytest.mark.parametrize("address", EMBEDDING_PUBLIC)
async def test_ipv6_forms_of_public_addresses_are_allowed(address):
    resolved = await resolve_destination(f"http://[{address}]/hook", allow_private=False)
    assert [ipaddress.ip_address(a) for a in resolved] == [ipaddress.ip_address(address)]


@pytest.mark.parametrize("address", EMBEDDING_PRIVATE.values(), ids=EMBEDDING_PRIVATE.keys())
async def test_webhook_create_refuses_ipv6_forms_of_private_ipv4(database_url, address):
    async with app_client(make_settings(database_url)) as client:
        response = await client.post(
            "/v1/webhooks", json={"url": f"https://[{address}]:8443/hook"}, headers=ADMIN
        )
        assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "url"]
        listed = await client.get("/v1/webhooks", headers=ADMIN)
        assert listed.json()["data"] == []
