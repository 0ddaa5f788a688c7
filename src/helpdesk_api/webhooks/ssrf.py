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


# Translators reach the IPv4 address in the low 32 bits (RFC 6052); the local-use prefix
# (RFC 8215) names a translator of the operator's own, so nothing behind it is known public.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: a translator, relay or tunnel delivers to
    them, so a private one behind a public-looking IPv6 form is just as private."""
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)  # (server, client): both carry the traffic
    if address in _NAT64 or int(address) >> 32 == 0:  # NAT64, or IPv4-compatible ::a.b.c.d
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
    return embedded


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL_USE:
            return False
        return all(_is_public(embedded) for embedded in _embedded_ipv4(address))
    return True


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
