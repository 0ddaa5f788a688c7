"""Inline images in a translation's body that point at the article's files (the public
path of ``kb.attachments``) must be that translation's own: a body cannot show another
article's file, nor one a reader of this translation could not fetch."""

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.models import KbAttachment, KbTranslation

_INLINE = re.compile(
    r"""<img\b[^>]*?\bsrc\s*=\s*["']?(?:https?://[^/"'\s>]+)?/v1/public/kb/articles/"""
    r"""(\d+)/attachments/(\d+)""",
    re.IGNORECASE,
)


def public_path(article_id: int, attachment_id: int) -> str:
    return f"/v1/public/kb/articles/{article_id}/attachments/{attachment_id}"


async def check_inline_images(
    session: AsyncSession, translation: KbTranslation | None, article_id: int, body: str
) -> None:
    """Inline images that point at an article's files must be this translation's own."""
    referenced = [(int(a), int(f)) for a, f in _INLINE.findall(body)]
    if not referenced:
        return
    own: Sequence[int] = []
    if translation is not None:
        own = (
            await session.scalars(
                select(KbAttachment.attachment_id).where(
                    KbAttachment.translation_id == translation.id
                )
            )
        ).all()
    for article, attachment_id in referenced:
        if article != article_id or attachment_id not in own:
            raise InvalidInput(
                f"The inline image {public_path(article, attachment_id)} is not a file of "
                "this translation: upload it to the translation first.",
                loc=("body", "body"),
                type="attachment_not_found",
            )
