"""Telegram's Bot API updates, as its webhook delivers them: a user's message becomes an
inbound message of the channel, known by its ``update_id``.

Telegram retries an update until it gets a 2xx, so updates that carry nothing to answer
(edits, a bot's own posts, joins) are acknowledged and remembered, never refused. Files are
not fetched from Telegram: a message without text is recorded by what it carried.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from helpdesk_api.channels.intake import Inbound
from helpdesk_api.models import IdentityKind

# Kinds of content a message may carry instead of text, in the order they are named.
_CONTENT_KINDS = (
    "photo", "document", "sticker", "voice", "video", "video_note", "audio", "animation",
    "location", "contact", "poll",
)  # fmt: skip
TEXT_MAX = 20_000


class _Loose(BaseModel):
    # The Bot API adds fields over time: what we do not use is ignored, not refused.
    model_config = ConfigDict(extra="allow")


class TelegramUser(_Loose):
    id: StrictInt
    is_bot: StrictBool = False
    first_name: Annotated[str, Field(max_length=256)] = ""
    last_name: Annotated[str, Field(max_length=256)] | None = None
    username: Annotated[str, Field(max_length=64)] | None = None


class TelegramChat(_Loose):
    id: StrictInt
    type: Annotated[str, Field(max_length=32)] = "private"


class TelegramMessage(_Loose):
    message_id: StrictInt
    date: StrictInt
    chat: TelegramChat
    from_: TelegramUser | None = Field(default=None, alias="from")
    text: Annotated[str, Field(max_length=TEXT_MAX)] | None = None
    caption: Annotated[str, Field(max_length=TEXT_MAX)] | None = None


class TelegramUpdate(_Loose):
    """An Update (https://core.telegram.org/bots/api#update); only `message` is answered."""

    update_id: StrictInt
    message: TelegramMessage | None = None


def _name(user: TelegramUser) -> str | None:
    name = " ".join(p for p in (user.first_name, user.last_name) if p).strip()
    return name or (f"@{user.username}" if user.username else None)


def _text(message: TelegramMessage) -> str:
    text = (message.text or message.caption or "").strip()
    extra = message.model_extra or {}
    carried = [kind for kind in _CONTENT_KINDS if kind in extra]
    if carried:
        note = f"[Telegram {', '.join(carried)}: not imported]"
        text = f"{text}\n\n{note}" if text else note
    return text or "[an empty Telegram message]"


def external_id(update: TelegramUpdate) -> str:
    return f"update:{update.update_id}"


def to_inbound(update: TelegramUpdate) -> Inbound | None:
    """The message to record, or None for an update we only acknowledge."""
    message = update.message
    if message is None or message.from_ is None or message.from_.is_bot:
        return None
    sender = message.from_
    return Inbound(
        external_id=external_id(update),
        # The user's id, not their @username: usernames change and many users have none.
        kind=IdentityKind.telegram,
        value=str(sender.id),
        name=_name(sender),
        text=_text(message),
        reply_to=str(message.chat.id),
        source={
            "telegram": {
                "update_id": update.update_id,
                "message_id": message.message_id,
                "chat_id": message.chat.id,
                "username": sender.username,
            }
        },
    )
