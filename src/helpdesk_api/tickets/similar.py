"""Finding duplicates: open tickets that look like this one, best first.

Ranked by a score: 1 for the same requester, plus the trigram similarity of the subjects
(pg_trgm, 0…1), plus the full-text rank of the other ticket's search document (subject and
the comments the caller may read) against this ticket's words (capped at 1). A candidate
must share the requester, have a subject similar enough for the trigram index (`%`), or match
some of the words.
"""

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Float, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import search_document, visible_tickets
from helpdesk_api.core.auth import Principal
from helpdesk_api.models import StatusCategory, Ticket, TicketComment
from helpdesk_api.tickets.schemas import SimilarReason
from helpdesk_api.tickets.service import get_visible_ticket

OPEN_CATEGORIES = (
    StatusCategory.new,
    StatusCategory.open,
    StatusCategory.pending,
    StatusCategory.on_hold,
)
SIMILAR_SUBJECT = 0.3  # pg_trgm's own default threshold for `%`
MAX_WORDS = 24
# Words that match nearly every support ticket and say nothing about this one.
_STOP_WORDS = frozenset({
    "about", "after", "again", "also", "been", "before", "being", "cannot", "could", "does",
    "doesn", "from", "have", "hello", "here", "just", "know", "like", "more", "need", "please",
    "since", "some", "still", "than", "thank", "thanks", "that", "their", "them", "then",
    "there", "these", "they", "this", "today", "using", "very", "want", "what", "when", "where",
    "which", "while", "will", "with", "would", "your",
})  # fmt: skip
_WORD = re.compile(r"[^\W_]{4,}")


@dataclass(frozen=True)
class Similar:
    ticket: Ticket
    score: float
    reasons: list[SimilarReason]


def _query_words(*texts: str) -> list[str]:
    words: list[str] = []
    for text in texts:
        for word in _WORD.findall(text.lower()):
            if word not in _STOP_WORDS and word not in words:
                words.append(word)
    return words[:MAX_WORDS]


async def similar_tickets(
    session: AsyncSession, principal: Principal, ticket_id: int, *, limit: int
) -> list[Similar]:
    ticket = await get_visible_ticket(session, principal, ticket_id)
    first = await session.scalar(
        select(TicketComment.body)
        .where(TicketComment.ticket_id == ticket.id)
        .order_by(TicketComment.id)
        .limit(1)
    )
    words = _query_words(ticket.subject, first or "")

    same_requester = Ticket.requester_id == ticket.requester_id
    subject_similarity = func.similarity(Ticket.subject, ticket.subject)
    matches = [same_requester, Ticket.subject.op("%")(ticket.subject)]
    text_rank: ColumnElement[float] = literal(0.0, Float)
    if words:
        # Words are letters and digits only, so they are safe inside a tsquery.
        query = func.to_tsquery("simple", " | ".join(words))
        document = search_document(principal)
        text_rank = func.least(func.ts_rank(document, query), 1.0)
        matches.append(document.op("@@")(query))
    requester_score = case((same_requester, 1.0), else_=0.0)
    score = (requester_score + subject_similarity + text_rank).label("score")
    statement = (
        visible_tickets(principal)
        .add_columns(score, subject_similarity.label("similarity"), text_rank.label("rank"))
        .where(
            Ticket.id != ticket.id,
            Ticket.status_category.in_(OPEN_CATEGORIES),
            or_(*matches),
        )
        .order_by(score.desc(), Ticket.id.desc())
        .limit(limit)
    )
    found: list[Similar] = []
    for row, row_score, similarity, rank in (await session.execute(statement)).all():
        reasons = []
        if row.requester_id == ticket.requester_id:
            reasons.append(SimilarReason.same_requester)
        if similarity >= SIMILAR_SUBJECT:
            reasons.append(SimilarReason.similar_subject)
        if rank > 0:
            reasons.append(SimilarReason.similar_text)
        found.append(Similar(ticket=row, score=round(float(row_score), 4), reasons=reasons))
    return found
