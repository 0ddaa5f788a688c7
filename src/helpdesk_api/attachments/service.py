"""Rules for attachments: uploads, who may read them, linking them to comments.

Never commits: the request path does.
"""

import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Sequence

import anyio
from sqlalchemy import and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import comment_visibility, ticket_visibility
from helpdesk_api.attachments.content import normalize_content_type
from helpdesk_api.attachments.schemas import AttachmentRead
from helpdesk_api.attachments.storage import Storage
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput, NotFound, PayloadTooLarge
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.models import Attachment, KbAttachment, Ticket, TicketComment

# Bidirectional overrides disguise extensions ("invoice\u202efdp.exe" shows as "…exe.pdf").
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FILENAME_LOC = ("query", "filename")
CONTENT_TYPE_LOC = ("header", "content-type")


def check_filename(filename: str) -> str:
    """The name shown to readers; refused (422), never silently rewritten, when unsafe."""
    name = unicodedata.normalize("NFC", filename).strip()
    if not 1 <= len(name) <= 255:
        raise InvalidInput("The filename must be 1 to 255 characters.", loc=FILENAME_LOC)
    if "/" in name or "\\" in name:
        raise InvalidInput("The filename must not contain / or \\.", loc=FILENAME_LOC)
    if any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in name):
        raise InvalidInput(
            "The filename must not contain control or bidirectional-override characters.",
            loc=FILENAME_LOC,
        )
    if name.strip(".") == "":
        raise InvalidInput("The filename must not be only dots.", loc=FILENAME_LOC)
    return name


async def _limited(stream: AsyncIterable[bytes], max_bytes: int) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"The file is larger than the limit of {max_bytes} bytes.")
        yield chunk


async def upload_attachment(
    session: AsyncSession,
    principal: Principal,
    *,
    storage: Storage,
    stream: AsyncIterable[bytes],
    filename: str,
    content_type: str | None,
    max_bytes: int,
) -> Attachment:
    name = check_filename(filename)
    media_type = normalize_content_type(content_type)
    if media_type is None:
        raise InvalidInput("The Content-Type header is not a media type.", loc=CONTENT_TYPE_LOC)
    stored = await storage.save(_limited(stream, max_bytes))
    try:
        if stored.size == 0:
            raise InvalidInput("The file is empty: send its bytes as the body.", loc=("body",))
        attachment = Attachment(
            uploader_id=principal.user_id,
            filename=name,
            content_type=media_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_key=stored.key,
        )
        session.add(attachment)
        await session.flush()
        await record_event(
            session,
            EventType.attachment_created,
            actor_id=principal.user_id,
            data={"attachment": AttachmentRead.model_validate(attachment).model_dump(mode="json")},
        )
    except BaseException:
        # No row will name the file; the transaction rolls back as the error leaves the route.
        with anyio.CancelScope(shield=True):
            await storage.delete(stored.key)
        raise
    return attachment


async def _one_chunk(content: bytes) -> AsyncIterator[bytes]:
    yield content


async def store_received_file(
    session: AsyncSession,
    *,
    storage: Storage,
    uploader_id: int,
    content: bytes,
    filename: str,
    content_type: str,
    inline: bool = False,
) -> Attachment:
    """A file that came with a message (an e-mail's attachment), stored as ``uploader_id``'s
    upload so their comment can attach it. The name and type are already made safe."""
    stored = await storage.save(_one_chunk(content))
    try:
        attachment = Attachment(
            uploader_id=uploader_id,
            filename=filename,
            content_type=normalize_content_type(content_type) or "application/octet-stream",
            size=stored.size,
            sha256=stored.sha256,
            storage_key=stored.key,
            is_inline=inline,
        )
        session.add(attachment)
        await session.flush()
        await record_event(
            session,
            EventType.attachment_created,
            actor_id=uploader_id,
            data={"attachment": AttachmentRead.model_validate(attachment).model_dump(mode="json")},
        )
    except BaseException:
        with anyio.CancelScope(shield=True):
            await storage.delete(stored.key)
        raise
    return attachment


async def get_visible_attachment(
    session: AsyncSession, principal: Principal, attachment_id: int
) -> Attachment:
    """An upload not yet attached is its uploader's (and admins'); an attached one is seen by
    whoever may see both its ticket and its comment. Anything else is "not found"."""
    own = true() if principal.is_admin else Attachment.uploader_id == principal.user_id
    unattached = and_(Attachment.comment_id.is_(None), own)
    attached = and_(
        Attachment.comment_id.is_not(None),
        ticket_visibility(principal),
        comment_visibility(principal),
    )
    attachment = await session.scalar(
        select(Attachment)
        .outerjoin(TicketComment, TicketComment.id == Attachment.comment_id)
        .outerjoin(Ticket, Ticket.id == TicketComment.ticket_id)
        .where(Attachment.id == attachment_id, or_(unattached, attached))
    )
    if attachment is None:
        raise NotFound(f"Attachment {attachment_id} does not exist.")
    return attachment


# The attachments linked to comments written in this request (the session's), by comment id.
_WRITTEN = "attachments_of_new_comments"


async def attach_to_comment(
    session: AsyncSession,
    uploader_id: int,
    attachment_ids: list[int],
    *,
    ticket_id: int,
    comment_id: int,
) -> list[Attachment]:
    """Link the author's own unattached uploads to a comment they are writing.

    Returns the attachments in the order given. Errors name the offending list index:
    ``loc=("body", "attachment_ids", index)``. Someone else's upload reads as "does not
    exist", so ids cannot be probed.
    """
    written: dict[int, list[Attachment]] = session.info.setdefault(_WRITTEN, {})
    if not attachment_ids:
        written[comment_id] = []
        return []
    # Row locks make two comments racing for one upload wait; the loser sees it attached.
    rows = await session.scalars(
        select(Attachment)
        .where(Attachment.id.in_(set(attachment_ids)))
        .order_by(Attachment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = {a.id: a for a in rows}
    # An article's file is the article's: a comment gets its own upload.
    of_articles = set(
        (
            await session.scalars(
                select(KbAttachment.attachment_id).where(KbAttachment.attachment_id.in_(found))
            )
        ).all()
    )
    seen: set[int] = set()
    for index, attachment_id in enumerate(attachment_ids):
        loc = ("body", "attachment_ids", index)
        attachment = found.get(attachment_id)
        if attachment is None or attachment.uploader_id != uploader_id:
            raise InvalidInput(
                f"Attachment {attachment_id} does not exist, or was not uploaded by you.",
                loc=loc,
                type="attachment_not_found",
            )
        if attachment_id in seen:
            raise InvalidInput(
                f"Attachment {attachment_id} is listed twice.", loc=loc, type="duplicate"
            )
        if attachment.comment_id is not None or attachment_id in of_articles:
            raise InvalidInput(
                f"Attachment {attachment_id} is already attached to a comment or an article; "
                "upload it again.",
                loc=loc,
                type="attachment_already_attached",
            )
        seen.add(attachment_id)
    for attachment_id in seen:
        found[attachment_id].ticket_id = ticket_id
        found[attachment_id].comment_id = comment_id
    await session.flush()
    written[comment_id] = sorted(found.values(), key=lambda a: a.id)
    return [found[i] for i in attachment_ids]


async def attachments_for_comments(
    session: AsyncSession, comment_ids: Sequence[int]
) -> dict[int, list[Attachment]]:
    """Attachments per comment in one query; every requested id has an entry (maybe empty).

    Comments written in this request are answered from what ``attach_to_comment`` linked.
    """
    written: dict[int, list[Attachment]] = session.info.get(_WRITTEN, {})
    result = {comment_id: list(written.get(comment_id, ())) for comment_id in comment_ids}
    unknown = [comment_id for comment_id in comment_ids if comment_id not in written]
    if not unknown:
        return result
    rows = await session.scalars(
        select(Attachment)
        .where(Attachment.comment_id.in_(unknown))
        .order_by(Attachment.comment_id, Attachment.id)
    )
    for attachment in rows:
        assert attachment.comment_id is not None
        result[attachment.comment_id].append(attachment)
    return result
