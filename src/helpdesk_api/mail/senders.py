"""The people on a message: our own mailboxes, and the users behind the other addresses."""

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.mail.parsing import Address
from helpdesk_api.models import EmailChannel, User
from helpdesk_api.users.service import find_or_create_customer

# A message copied to a crowd makes CCs of the first few only: mail must not mint users en masse.
MAX_COPIED_USERS = 20
_NAME_MAX = 200


class UnknownSender(Exception):
    """The sender's address is not one we can make a customer of."""


@dataclass(frozen=True)
class MailboxAddresses:
    addresses: frozenset[str]
    domains: tuple[str, ...]

    @classmethod
    async def load(cls, session: AsyncSession) -> "MailboxAddresses":
        rows = list(await session.scalars(select(EmailChannel.address)))
        return cls(frozenset(rows), tuple(sorted({a.rsplit("@", 1)[-1] for a in rows})))

    def is_ours(self, address: str) -> bool:
        local, _, domain = address.lower().partition("@")
        return address.lower() in self.addresses or (
            f"{local.split('+', 1)[0]}@{domain}" in self.addresses
        )


def _display_name(address: Address) -> str:
    name = " ".join((address.name or "").split())[:_NAME_MAX].strip()
    return name or address.email.split("@", 1)[0][:_NAME_MAX] or address.email


async def _find_or_create(session: AsyncSession, address: Address, *, locale: str | None) -> User:
    try:
        return await find_or_create_customer(
            session, address.email, _display_name(address), actor=None, via="email", locale=locale
        )
    except (InvalidInput, ValidationError) as exc:
        raise UnknownSender(f"{address.email!r} is not an e-mail address we accept.") from exc


async def sender_user(session: AsyncSession, address: Address, *, locale: str | None) -> User:
    """The user who wrote; a first-time sender becomes a customer in the language they wrote."""
    return await _find_or_create(session, address, locale=locale)


async def customers_for(session: AsyncSession, addresses: Sequence[Address]) -> list[User]:
    """Users for copied addresses, created as customers when new; unusable ones are skipped."""
    users: list[User] = []
    seen: set[str] = set()
    for address in addresses:
        if address.email in seen or len(users) >= MAX_COPIED_USERS:
            continue
        seen.add(address.email)
        try:
            users.append(await _find_or_create(session, address, locale=None))
        except UnknownSender:
            continue
    return users
