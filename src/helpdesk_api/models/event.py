from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, false, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin

# The user an event of ``user.created`` (``data.user.id``) or ``user.updated``
# (``data.user_id``) is about.
USER_ID_SQL = "((coalesce(data ->> 'user_id', data -> 'user' ->> 'id'))::bigint)"


class Event(IdMixin, Base):
    """The event log: every state change, written in the transaction that made it.

    ``tx_id`` is the writing transaction's id. Ids from concurrent transactions commit out of
    order, so readers page by ``(tx_id, id)`` and stop below the oldest transaction still in
    flight; that way an event that commits late is never skipped.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_tx_id_id", "tx_id", "id"),
        # Exports' start_time: events are written in time order, so a BRIN index is tiny,
        # costs writers next to nothing, and narrows "since T" to the last block ranges.
        Index("ix_events_occurred_at", "occurred_at", postgresql_using="brin"),
        Index(
            "ix_events_ticket_id_id",
            "ticket_id",
            "id",
            postgresql_where=text("ticket_id IS NOT NULL"),
        ),
        # A user's history (GET /v1/users/{id}/audits): their created and updated events.
        # Few events per user: the index finds them, sorting them by id costs nothing.
        # Written as PostgreSQL prints it back, so schema comparison sees the same index.
        Index(
            "ix_events_user_id",
            text(
                "(COALESCE(data ->> 'user_id'::text, (data -> 'user'::text) ->> 'id'::text)"
                "::bigint)"
            ),
            postgresql_where=text("type IN ('user.created', 'user.updated')"),
        ),
    )

    tx_id: Mapped[int] = mapped_column(server_default=text("(pg_current_xact_id()::text)::bigint"))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_via: Mapped[str] = mapped_column(String(20), default="api", server_default="api")
    # Set when the event concerns a ticket; customers' streams select on it with ``is_public``.
    ticket_id: Mapped[int | None]
    is_public: Mapped[bool] = mapped_column(default=False, server_default=false())
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
