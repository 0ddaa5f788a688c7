"""Links between tickets, CCs and followers: what merging and "one reply for all" work on."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin
from helpdesk_api.models.ticket import Ticket


class LinkKind(StrEnum):
    related = "related"
    duplicate = "duplicate"  # ticket_id duplicates linked_ticket_id
    incident = "incident"  # ticket_id is an incident of the problem linked_ticket_id


class CcKind(StrEnum):
    cc = "cc"  # a customer who sees the ticket's public side
    follower = "follower"  # a staff member who gets its events


class TicketLink(IdMixin, Base):
    """A directed link; at most one link joins two tickets, whichever way it points."""

    __tablename__ = "ticket_links"
    __table_args__ = (
        CheckConstraint("kind IN ('related', 'duplicate', 'incident')", name="kind"),
        CheckConstraint("ticket_id <> linked_ticket_id", name="not_self"),
        Index(
            "uq_ticket_links_pair",
            text("least(ticket_id, linked_ticket_id)"),
            text("greatest(ticket_id, linked_ticket_id)"),
            unique=True,
        ),
        # An incident belongs to one problem.
        Index(
            "uq_ticket_links_incident",
            "ticket_id",
            unique=True,
            postgresql_where=text("kind = 'incident'"),
        ),
        Index("ix_ticket_links_ticket_id_id", "ticket_id", "id"),
        Index("ix_ticket_links_linked_ticket_id_id", "linked_ticket_id", "id"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    linked_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TicketCc(Base):
    """A customer copied on a ticket, or a staff member following it."""

    __tablename__ = "ticket_ccs"
    __table_args__ = (
        CheckConstraint("kind IN ('cc', 'follower')", name="kind"),
        Index("ix_ticket_ccs_user_id", "user_id"),
    )

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


# Finding duplicates ranks open tickets by trigram similarity of their subjects.
Index(
    "ix_tickets_subject_trgm",
    Ticket.subject,
    postgresql_using="gin",
    postgresql_ops={"subject": "gin_trgm_ops"},
)
