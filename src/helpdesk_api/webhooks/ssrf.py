"""Webhook destinations must be public: no loopback, private, link-local or metadata hosts.

Checked when a webhook is created and again before every delivery, after DNS resolution;
the delivery then connects to the address that was checked (see ``delivery.py``), so a DNS
answer that changes in between cannot redirect it.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from helpdesk_api.core.errors import InvalidInput


class UnsafeDestination(Exception):
    pass


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve_destination(url: str, *, allow_private: bool) -> list[str]:
    """The addresses a URL's host resolves to; raises ``UnsafeDestination`` if any is not
    public (unless ``allow_private``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestination("the URL must be http(s) with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise UnsafeDestination(f"the host {parts.hostname!r} does not resolve") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not allow_private:
        for address in addresses:
            if not _is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise UnsafeDestination(
                    f"{parts.hostname} resolves to {address}, which is not a public address"
                )
    return addresses


async def check_webhook_url(url: str, *, allow_private: bool) -> None:
    try:
        await resolve_destination(url, allow_private=allow_private)
    except UnsafeDestination as exc:
        raise InvalidInput(
            f"Webhook URLs must reach a public address: {exc}.", loc=("body", "url")
        ) from exc
