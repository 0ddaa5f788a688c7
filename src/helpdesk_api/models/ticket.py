from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin
from helpdesk_api.models.status import STATUS_CATEGORIES_SQL


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class PriorityRank(IntEnum):
    """Sortable priority: ``sort=-priority`` puts urgent work first."""

    low = 1
    normal = 2
    high = 3
    urgent = 4


class Level(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class TicketType(StrEnum):
    question = "question"
    incident = "incident"
    problem = "problem"
    task = "task"


class Channel(StrEnum):
    api = "api"
    web = "web"
    email = "email"
    chat = "chat"
    phone = "phone"
    telegram = "telegram"
    social = "social"
    alert = "alert"


class Via(StrEnum):
    """How a change reached a ticket, as audits, comments and events record it: a channel
    (the spellings of ``Channel``), or one of the service's own writers."""

    api = "api"
    web = "web"
    email = "email"
    chat = "chat"
    phone = "phone"
    telegram = "telegram"
    social = "social"
    alert = "alert"
    trigger = "trigger"
    automation = "automation"
    sla = "sla"
    merge = "merge"
    problem = "problem"  # a problem's reply or solution copied to its incidents
    links = "links"  # one reply to a ticket and every ticket linked to it
    routing = "routing"  # a group's routing assigned the ticket
    satisfaction = "satisfaction"  # the requester's rating, and what a bad one reopened
    macro = "macro"  # an agent applied macros (the actor is the agent)
    imported = "import"  # history brought from another help desk (helpdesk_api.imports)
    auto_match = "auto_match"  # intake matched the requester's product or asset
    bot = "bot"  # the knowledge base bot's answer, and the requester's "it solved it"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Ticket(IdMixin, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("priority", Priority), name="priority"),
        CheckConstraint(_in("channel", Channel), name="channel"),
        CheckConstraint(f"type IS NULL OR {_in('type', TicketType)}", name="type"),
        CheckConstraint(f"impact IS NULL OR {_in('impact', Level)}", name="impact"),
        CheckConstraint(f"urgency IS NULL OR {_in('urgency', Level)}", name="urgency"),
        CheckConstraint(f"status_category IN ({STATUS_CATEGORIES_SQL})", name="status_category"),
        # Every list filter pairs with the default order (updated_at, id) so a page is an
        # index range scan even at millions of rows.
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
        Index("ix_tickets_created_at_id", "created_at", "id"),
        Index("ix_tickets_priority_rank_id", "priority_rank", "id"),
        Index("ix_tickets_status_category_updated_at", "status_category", "updated_at", "id"),
        Index("ix_tickets_status_id_updated_at", "status_id", "updated_at", "id"),
        Index("ix_tickets_assignee_id_updated_at", "assignee_id", "updated_at", "id"),
        # Routing counts each candidate's open work: an index-only range per (agent, category).
        Index("ix_tickets_assignee_id_status_category", "assignee_id", "status_category"),
        Index("ix_tickets_group_id_updated_at", "group_id", "updated_at", "id"),
        Index("ix_tickets_requester_id_updated_at", "requester_id", "updated_at", "id"),
        Index("ix_tickets_organization_id_updated_at", "organization_id", "updated_at", "id"),
        # Partial: most tickets name no product, and the filter never asks for those.
        Index(
            "ix_tickets_product_id_updated_at",
            "product_id",
            "updated_at",
            "id",
            postgresql_where=text("product_id IS NOT NULL"),
        ),
        Index("ix_tickets_asset_id", "asset_id", postgresql_where=text("asset_id IS NOT NULL")),
        Index("ix_tickets_tags", "tags", postgresql_using="gin"),
        # Equality and containment on custom fields (``custom_fields @> {"key": value}``):
        # jsonb_path_ops is a third of jsonb_ops' size and answers exactly @>.
        Index(
            "ix_tickets_custom_fields",
            "custom_fields",
            postgresql_using="gin",
            postgresql_ops={"custom_fields": "jsonb_path_ops"},
        ),
        Index("ix_tickets_search_document", "search_document", postgresql_using="gin"),
        Index("ix_tickets_sla_next_breach_at_id", "sla_next_breach_at", "id"),
        # Sorts (migration 0023): -priority lists older tickets first within a priority, so
        # its order is (-priority_rank, id); status in its category's place in the lifecycle
        # (ticket_status_rank, an immutable SQL function the planner inlines).
        Index("ix_tickets_neg_priority_rank_id", text("(- priority_rank)"), "id"),
        Index("ix_tickets_status_rank_id", text("ticket_status_rank(status_category)"), "id"),
        Index(
            "ix_tickets_neg_status_rank_id", text("(- ticket_status_rank(status_category))"), "id"
        ),
        Index("ix_tickets_due_at_id", "due_at", "id", postgresql_where=text("due_at IS NOT NULL")),
        # The automation sweep's time bounds, on tickets that can still change: each rule's
        # candidates are one range of one of these (``automation/sweep_sql.py``).
        *(
            Index(
                f"ix_tickets_automation_{column}",
                "status_category",
                column,
                "id",
                postgresql_where=text(
                    "status_category <> 'closed'"
                    if column in ("created_at", "status_changed_at")
                    else f"status_category <> 'closed' AND {column} IS NOT NULL"
                ),
            )
            for column in (
                "created_at",
                "status_changed_at",
                "last_requester_reply_at",
                "last_agent_reply_at",
            )
        ),
    )

    subject: Mapped[str] = mapped_column(String(500))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    # The requester's organisation when the ticket was opened: who may see it stays stable.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    status_id: Mapped[int] = mapped_column(ForeignKey("ticket_statuses.id"))
    # Copied from the status, so queue filters need no join.
    status_category: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    priority_rank: Mapped[int] = mapped_column(SmallInteger)
    impact: Mapped[str | None] = mapped_column(String(10))
    urgency: Mapped[str | None] = mapped_column(String(10))
    type: Mapped[str | None] = mapped_column(String(20))
    due_at: Mapped[datetime | None]
    channel: Mapped[str] = mapped_column(String(20))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list, server_default="{}")
    # Staff-only: skills an agent needs to be routed this ticket (helpdesk_api.routing).
    required_skills: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), default=list, server_default="{}"
    )
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # ``{key: value}`` of the ticket fields (helpdesk_api.fields); values of agent-only
    # fields never reach customers (tickets.representation filters them).
    custom_fields: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    # The language the customer wrote in (detected from a new e-mail ticket's text), for
    # notifications when the requester has no locale of their own.
    locale: Mapped[str | None] = mapped_column(String(35))
    # The mailbox the conversation runs through: replies are sent from it. None: the default
    # mailbox (the first active one), if there is any.
    email_channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_channels.id", ondelete="SET NULL")
    )
    is_public: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    status_changed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    solved_at: Mapped[datetime | None]
    first_agent_reply_at: Mapped[datetime | None]
    last_public_comment_at: Mapped[datetime | None]
    # The last public reply by the requester and by an agent, for automations ("hours since
    # the requester replied"). Deferred: only the automation sweep reads them.
    last_requester_reply_at: Mapped[datetime | None] = mapped_column(deferred=True)
    last_agent_reply_at: Mapped[datetime | None] = mapped_column(deferred=True)
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The requester's latest satisfaction rating ("good" or "bad"; satisfaction_ratings has
    # each cycle's), on the ticket so staff views and rules read it with the ticket.
    satisfaction_score: Mapped[str | None] = mapped_column(String(4))
    # What the ticket is about (staff-set, or matched on intake): the product, and the
    # requester's asset of it when known (its product is then the asset's).
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))
    # The earliest breach_at of the ticket's running SLA clocks, kept by the sla domain in
    # the writing transaction, so queues sort and filter by urgency from an index.
    sla_next_breach_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    # What full-text search matches: the subject and every comment, and a twin with public
    # comments only for customers. Kept by triggers (migration 0006) whenever a comment is
    # written, copied by a merge or loaded in bulk, and when the subject changes; no column
    # default, so the ORM has nothing to read back after an INSERT.
    search_document: Mapped[Any] = mapped_column(TSVECTOR, deferred=True)
    public_search_document: Mapped[Any] = mapped_column(TSVECTOR, deferred=True)

    __mapper_args__ = {"version_id_col": version}


class TicketComment(IdMixin, Base):
    """A public reply or a private note; ``is_public`` decides who may ever read it."""

    __tablename__ = "ticket_comments"
    __table_args__ = (
        Index("ix_ticket_comments_ticket_id_id", "ticket_id", "id"),
        # Activity reports count public replies written in a period.
        Index(
            "ix_ticket_comments_public_created_at",
            "created_at",
            postgresql_where=text("is_public"),
        ),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # None for a system note: one the service wrote itself (a rule, a timer).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool]
    via: Mapped[str] = mapped_column(String(20), default="api", server_default="api")
    # Where the comment came from, for staff: an e-mail's Message-ID, sender, recipients and
    # which header or token joined it to this ticket.
    source: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TicketAudit(IdMixin, Base):
    """Every change to a ticket: who, through what, what changed. Staff-only."""

    __tablename__ = "ticket_audits"
    __table_args__ = (Index("ix_ticket_audits_ticket_id_id", "ticket_id", "id"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(20))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TagCount(Base):
    """Tickets per tag, kept exact in the writing transaction so `GET /v1/tags` is instant."""

    __tablename__ = "tag_counts"

    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_count: Mapped[int] = mapped_column(default=0, server_default="0")


class Attachment(IdMixin, Base):
    """A stored file; visible exactly as the comment it belongs to."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_comment_id", "comment_id"),
        Index("ix_attachments_uploader_id", "uploader_id"),
    )

    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    is_inline: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
