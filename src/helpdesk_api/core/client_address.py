"""The client's address, for limits kept per client: the peer, or what a trusted proxy says.

A forwarding header is believed only when configured: anyone can send ``X-Forwarded-For``,
and believing it unasked would hand every request a budget of its own.
"""

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(value: str) -> Address | None:
    """An address as proxies write it: bare, ``[v6]:port`` or ``v4:port``."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None


def bucket_of(address: Address | None, fallback: str) -> bytes:
    """The rate-limit key of an address. An IPv6 host commonly holds a whole /64, so the /64
    is the client; otherwise each of its addresses would get a budget of its own."""
    if address is None:
        return b"addr:" + fallback.encode(errors="replace")[:64]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        network = ipaddress.IPv6Network((int(address) >> 64 << 64, 64))
        return f"addr:{network}".encode()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return f"addr:{address}".encode()


@dataclass(frozen=True)
class ClientAddress:
    header: bytes | None = None
    count: int = 1
    trusted: tuple[Network, ...] = ()

    @classmethod
    def from_settings(
        cls, header: str | None, count: int, trusted: Sequence[str]
    ) -> "ClientAddress":
        return cls(
            header=header.strip().lower().encode() if header else None,
            count=count,
            trusted=tuple(ipaddress.ip_network(n, strict=False) for n in trusted),
        )

    def _is_trusted(self, address: Address | None) -> bool:
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.trusted)

    def key(self, scope: Scope) -> bytes:
        peer_text = str((scope.get("client") or ("unknown",))[0])
        peer = _parse(peer_text)
        if self.header is None or (self.trusted and not self._is_trusted(peer)):
            return bucket_of(peer, peer_text)
        # Each proxy appends the address it heard from; several header lines read as one list.
        entries = [
            part
            for name, value in scope["headers"]
            if name == self.header
            for part in value.decode("latin-1").split(",")
            if part.strip()
        ]
        if not entries:
            return bucket_of(peer, peer_text)
        if self.trusted:
            parsed = [_parse(entry) for entry in entries]
            for address in reversed(parsed):
                if not self._is_trusted(address):
                    return bucket_of(address, peer_text) if address else bucket_of(peer, peer_text)
            return bucket_of(parsed[0], peer_text)
        if len(entries) < self.count:
            # Fewer entries than proxies: the header did not pass through all of ours.
            return bucket_of(peer, peer_text)
        address = _parse(entries[-self.count])
        return bucket_of(address, peer_text) if address else bucket_of(peer, peer_text)
