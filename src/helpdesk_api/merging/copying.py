"""Copying comments to another ticket: the copy keeps author, time and visibility, and its
attachments point at the same stored files, so the original ticket's history stays intact."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.models import Attachment, Ticket, TicketComment


async def copy_comments(
    session: AsyncSession, comments: Sequence[TicketComment], ticket: Ticket, *, via: str
) -> list[TicketComment]:
    """Copies of ``comments`` on ``ticket``, in the given order; counters are the caller's."""
    if not comments:
        return []
    copies = [
        TicketComment(
            ticket_id=ticket.id,
            author_id=c.author_id,
            body=c.body,
            html_body=c.html_body,
            is_public=c.is_public,
            via=via,
            created_at=c.created_at,
        )
        for c in comments
    ]
    session.add_all(copies)
    await session.flush()
    new_ids = {original.id: copy.id for original, copy in zip(comments, copies, strict=True)}
    originals = await session.scalars(
        select(Attachment).where(Attachment.comment_id.in_(new_ids)).order_by(Attachment.id)
    )
    for a in originals:
        assert a.comment_id is not None
        session.add(
            Attachment(
                uploader_id=a.uploader_id,
                ticket_id=ticket.id,
                comment_id=new_ids[a.comment_id],
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                storage_key=a.storage_key,
                is_inline=a.is_inline,
                created_at=a.created_at,
            )
        )
    await session.flush()
    return copies
