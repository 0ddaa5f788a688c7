"""Tickets: organisations, groups, statuses, the priority matrix, comments, audits, tags,
attachments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:43:05.278594
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
    )
    op.create_index(
        "uq_groups_lower_name", "groups", [sa.literal_column("lower(name)")], unique=True
    )
    op.create_table(
        "organizations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("shared_tickets", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "domains", postgresql.ARRAY(sa.String(length=253)), server_default="{}", nullable=False
        ),
        sa.Column(
            "tags", postgresql.ARRAY(sa.String(length=100)), server_default="{}", nullable=False
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("external_id", name=op.f("uq_organizations_external_id")),
    )
    op.create_index(
        "ix_organizations_domains",
        "organizations",
        ["domains"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "uq_organizations_lower_name",
        "organizations",
        [sa.literal_column("lower(name)")],
        unique=True,
    )
    op.create_table(
        "priority_matrix",
        sa.Column("impact", sa.String(length=10), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "impact IN ('low', 'medium', 'high')", name=op.f("ck_priority_matrix_impact")
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')",
            name=op.f("ck_priority_matrix_priority"),
        ),
        sa.CheckConstraint(
            "urgency IN ('low', 'medium', 'high')", name=op.f("ck_priority_matrix_urgency")
        ),
        sa.PrimaryKeyConstraint("impact", "urgency", name=op.f("pk_priority_matrix")),
    )
    op.create_table(
        "tag_counts",
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("ticket_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("tag", name=op.f("pk_tag_counts")),
    )
    op.create_table(
        "ticket_statuses",
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("agent_label", sa.String(length=100), nullable=False),
        sa.Column("customer_label", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("position", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "category IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')",
            name=op.f("ck_ticket_statuses_category"),
        ),
        sa.CheckConstraint(
            "NOT is_default OR is_active", name=op.f("ck_ticket_statuses_default_is_active")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_statuses")),
    )
    op.create_index(
        "uq_ticket_statuses_default_per_category",
        "ticket_statuses",
        ["category"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "group_memberships",
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_memberships_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_group_memberships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_memberships")),
    )
    op.create_index(
        "ix_group_memberships_user_id", "group_memberships", ["user_id", "group_id"], unique=False
    )
    op.create_table(
        "tickets",
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("requester_id", sa.BigInteger(), nullable=False),
        sa.Column("submitter_id", sa.BigInteger(), nullable=False),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("status_category", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("priority_rank", sa.SmallInteger(), nullable=False),
        sa.Column("impact", sa.String(length=10), nullable=True),
        sa.Column("urgency", sa.String(length=10), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column(
            "tags", postgresql.ARRAY(sa.String(length=100)), server_default="{}", nullable=False
        ),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("is_public", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "status_changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_agent_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_public_comment_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column(
            "subject_search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple'::regconfig, subject)", persisted=True),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "channel IN ('api', 'web', 'email', 'chat', 'phone', 'telegram', 'social', 'alert')",
            name=op.f("ck_tickets_channel"),
        ),
        sa.CheckConstraint(
            "impact IS NULL OR impact IN ('low', 'medium', 'high')", name=op.f("ck_tickets_impact")
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_tickets_priority")
        ),
        sa.CheckConstraint(
            "status_category IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')",
            name=op.f("ck_tickets_status_category"),
        ),
        sa.CheckConstraint(
            "type IS NULL OR type IN ('question', 'incident', 'problem', 'task')",
            name=op.f("ck_tickets_type"),
        ),
        sa.CheckConstraint(
            "urgency IS NULL OR urgency IN ('low', 'medium', 'high')",
            name=op.f("ck_tickets_urgency"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_tickets_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_tickets_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_tickets_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_tickets_requester_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["status_id"], ["ticket_statuses.id"], name=op.f("fk_tickets_status_id_ticket_statuses")
        ),
        sa.ForeignKeyConstraint(
            ["submitter_id"], ["users.id"], name=op.f("fk_tickets_submitter_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("external_id", name=op.f("uq_tickets_external_id")),
    )
    op.create_index(
        "ix_tickets_assignee_id_updated_at",
        "tickets",
        ["assignee_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index("ix_tickets_created_at_id", "tickets", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_tickets_group_id_updated_at", "tickets", ["group_id", "updated_at", "id"], unique=False
    )
    op.create_index(
        "ix_tickets_organization_id_updated_at",
        "tickets",
        ["organization_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index("ix_tickets_priority_rank_id", "tickets", ["priority_rank", "id"], unique=False)
    op.create_index(
        "ix_tickets_requester_id_updated_at",
        "tickets",
        ["requester_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_tickets_status_category_updated_at",
        "tickets",
        ["status_category", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_tickets_status_id_updated_at",
        "tickets",
        ["status_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_tickets_subject_search",
        "tickets",
        ["subject_search"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("ix_tickets_tags", "tickets", ["tags"], unique=False, postgresql_using="gin")
    op.create_index("ix_tickets_updated_at_id", "tickets", ["updated_at", "id"], unique=False)
    op.create_table(
        "ticket_comments",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("via", sa.String(length=20), server_default="api", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple'::regconfig, body)", persisted=True),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_ticket_comments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_comments_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_comments")),
    )
    op.create_index(
        "ix_ticket_comments_search",
        "ticket_comments",
        ["search"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_ticket_comments_ticket_id_id", "ticket_comments", ["ticket_id", "id"], unique=False
    )
    op.create_table(
        "attachments",
        sa.Column("uploader_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("is_inline", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["ticket_comments.id"],
            name=op.f("fk_attachments_comment_id_ticket_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_attachments_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"], ["users.id"], name=op.f("fk_attachments_uploader_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index("ix_attachments_comment_id", "attachments", ["comment_id"], unique=False)
    op.create_index("ix_attachments_uploader_id", "attachments", ["uploader_id"], unique=False)
    op.create_table(
        "ticket_audits",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_ticket_audits_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["ticket_comments.id"],
            name=op.f("fk_ticket_audits_comment_id_ticket_comments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_audits_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_audits")),
    )
    op.create_index(
        "ix_ticket_audits_ticket_id_id", "ticket_audits", ["ticket_id", "id"], unique=False
    )
    op.add_column("users", sa.Column("organization_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "users",
        sa.Column(
            "tags", postgresql.ARRAY(sa.String(length=100)), server_default="{}", nullable=False
        ),
    )
    op.create_index("ix_users_organization_id", "users", ["organization_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_users_organization_id_organizations"),
        "users",
        "organizations",
        ["organization_id"],
        ["id"],
        ondelete="SET NULL",
    )

    _seed_statuses_and_priority_matrix()


DEFAULT_STATUSES = [
    ("new", "New", "Open", 1),
    ("open", "Open", "Open", 2),
    ("pending", "Pending", "Awaiting your reply", 3),
    ("on_hold", "On-hold", "Open", 4),
    ("solved", "Solved", "Solved", 5),
    ("closed", "Closed", "Closed", 6),
]

# ITIL-style: high×high → urgent; high×medium, medium×high → high;
# high×low, medium×medium, low×high → normal; the rest → low.
DEFAULT_MATRIX = {
    ("high", "high"): "urgent",
    ("high", "medium"): "high",
    ("medium", "high"): "high",
    ("high", "low"): "normal",
    ("medium", "medium"): "normal",
    ("low", "high"): "normal",
    ("medium", "low"): "low",
    ("low", "medium"): "low",
    ("low", "low"): "low",
}


def _seed_statuses_and_priority_matrix() -> None:
    statuses = sa.table(
        "ticket_statuses",
        sa.column("category", sa.String),
        sa.column("agent_label", sa.String),
        sa.column("customer_label", sa.String),
        sa.column("is_default", sa.Boolean),
        sa.column("position", sa.BigInteger),
    )
    op.bulk_insert(
        statuses,
        [
            {
                "category": category,
                "agent_label": agent_label,
                "customer_label": customer_label,
                "is_default": True,
                "position": position,
            }
            for category, agent_label, customer_label, position in DEFAULT_STATUSES
        ],
    )
    matrix = sa.table(
        "priority_matrix",
        sa.column("impact", sa.String),
        sa.column("urgency", sa.String),
        sa.column("priority", sa.String),
    )
    op.bulk_insert(
        matrix,
        [
            {"impact": impact, "urgency": urgency, "priority": priority}
            for (impact, urgency), priority in DEFAULT_MATRIX.items()
        ],
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_users_organization_id_organizations"), "users", type_="foreignkey")
    op.drop_index("ix_users_organization_id", table_name="users")
    op.drop_column("users", "tags")
    op.drop_column("users", "organization_id")
    op.drop_index("ix_ticket_audits_ticket_id_id", table_name="ticket_audits")
    op.drop_table("ticket_audits")
    op.drop_index("ix_attachments_uploader_id", table_name="attachments")
    op.drop_index("ix_attachments_comment_id", table_name="attachments")
    op.drop_table("attachments")
    op.drop_index("ix_ticket_comments_ticket_id_id", table_name="ticket_comments")
    op.drop_index("ix_ticket_comments_search", table_name="ticket_comments", postgresql_using="gin")
    op.drop_table("ticket_comments")
    op.drop_index("ix_tickets_updated_at_id", table_name="tickets")
    op.drop_index("ix_tickets_tags", table_name="tickets", postgresql_using="gin")
    op.drop_index("ix_tickets_subject_search", table_name="tickets", postgresql_using="gin")
    op.drop_index("ix_tickets_status_id_updated_at", table_name="tickets")
    op.drop_index("ix_tickets_status_category_updated_at", table_name="tickets")
    op.drop_index("ix_tickets_requester_id_updated_at", table_name="tickets")
    op.drop_index("ix_tickets_priority_rank_id", table_name="tickets")
    op.drop_index("ix_tickets_organization_id_updated_at", table_name="tickets")
    op.drop_index("ix_tickets_group_id_updated_at", table_name="tickets")
    op.drop_index("ix_tickets_created_at_id", table_name="tickets")
    op.drop_index("ix_tickets_assignee_id_updated_at", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("ix_group_memberships_user_id", table_name="group_memberships")
    op.drop_table("group_memberships")
    op.drop_index(
        "uq_ticket_statuses_default_per_category",
        table_name="ticket_statuses",
        postgresql_where=sa.text("is_default"),
    )
    op.drop_table("ticket_statuses")
    op.drop_table("tag_counts")
    op.drop_table("priority_matrix")
    op.drop_index("uq_organizations_lower_name", table_name="organizations")
    op.drop_index("ix_organizations_domains", table_name="organizations", postgresql_using="gin")
    op.drop_table("organizations")
    op.drop_index("uq_groups_lower_name", table_name="groups")
    op.drop_table("groups")
