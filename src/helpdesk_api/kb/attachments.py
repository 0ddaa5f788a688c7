"""Files of article translations, in the attachment store. Never commits.

Staff upload a file to a translation (its bytes as the body, as ``POST /v1/attachments``)
and reference it in the body as an inline image by its public path,
``/v1/public/kb/articles/{article_id}/attachments/{attachment_id}``. A body may reference
only its own translation's files (422 otherwise). The public path serves a file exactly when
the caller may read its translation: published, of a visibility the caller's audience
includes; drafts and internal articles never.
"""

from collections.abc import AsyncIterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.attachments.service import upload_attachment
from helpdesk_api.attachments.storage import Storage
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import NotFound
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.kb import search, translations
from helpdesk_api.kb.search import Audience, Filters
from helpdesk_api.models import Attachment, KbAttachment, KbTranslation


async def upload(
    session: AsyncSession,
    principal: Principal,
    *,
    article_id: int,
    locale: str,
    storage: Storage,
    stream: AsyncIterable[bytes],
    filename: str,
    content_type: str | None,
    max_bytes: int,
) -> Attachment:
    """404 for a missing article or translation, before a byte is stored; 413 past
    ``max_bytes`` (nothing kept)."""
    translation = await translations.get(session, article_id, locale, for_update=True)
    attachment = await upload_attachment(
        session, principal, storage=storage, stream=stream, filename=filename,
        content_type=content_type, max_bytes=max_bytes,
    )  # fmt: skip
    session.add(KbAttachment(translation_id=translation.id, attachment_id=attachment.id))
    await session.flush()
    return attachment


async def of_translation(
    session: AsyncSession, article_id: int, locale: str, *, limit: int, cursor: str | None
) -> tuple[list[Attachment], str | None]:
    """In upload order (attachment ids grow with uploads)."""
    translation = await translations.get(session, article_id, locale)
    return await paginate(
        session,
        select(Attachment)
        .join(KbAttachment, KbAttachment.attachment_id == Attachment.id)
        .where(KbAttachment.translation_id == translation.id),
        keys=[SortKey(Attachment.id, lambda a: a.id)],
        limit=limit,
        cursor=cursor,
    )


async def readable_attachment(
    session: AsyncSession, audience: Audience, article_id: int, attachment_id: int
) -> Attachment:
    """The file, when its translation is one the audience may read; 404 otherwise, the
    same for a file that does not exist."""
    pair = search.readable(audience, Filters()).where(KbTranslation.article_id == article_id)
    readable_ids = pair.with_only_columns(KbTranslation.id)
    attachment = await session.scalar(
        select(Attachment)
        .join(KbAttachment, KbAttachment.attachment_id == Attachment.id)
        .where(Attachment.id == attachment_id, KbAttachment.translation_id.in_(readable_ids))
    )
    if attachment is None:
        raise NotFound(f"Article {article_id} has no attachment {attachment_id} you may read.")
    return attachment
