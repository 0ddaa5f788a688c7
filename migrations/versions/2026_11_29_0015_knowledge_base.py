"""Knowledge base: categories, sections (nested one level), articles, their translations with
a per-locale search document, revisions and visitors' votes.

- Text search configurations ``kb_english``, ``kb_italian``, ``kb_russian``, ``kb_hungarian``,
  ``kb_romanian`` and ``kb_simple`` (every other language): PostgreSQL's, with ``unaccent``
  before the stemmer, so "parola" finds "parolă", "jelszo" finds "jelszó" and "елка" finds
  "ёлка" (visitors often type without diacritics).
- ``kb_document(locale, title, body)``: title weighted A over body B, in the locale's
  configuration; the stored generated column ``kb_translations.search_vector`` and its GIN
  index. A trigram index on titles for typo tolerance (pg_trgm, from 0003).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# kb configuration → PostgreSQL's, whose parser, stop words and stemmer it copies.
CONFIGURATIONS = {
    "kb_english": ("english", "english_stem"),
    "kb_italian": ("italian", "italian_stem"),
    "kb_russian": ("russian", "russian_stem"),
    "kb_hungarian": ("hungarian", "hungarian_stem"),
    "kb_romanian": ("romanian", "romanian_stem"),
    "kb_simple": ("simple", "simple"),
}

# Kept in step with helpdesk_api.kb.locales.SEARCH_CONFIGURATIONS.
SEARCH_CONFIG = """
    CREATE FUNCTION kb_search_config(locale text) RETURNS regconfig
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
        SELECT (CASE split_part(lower(locale), '-', 1)
            WHEN 'en' THEN 'kb_english' WHEN 'it' THEN 'kb_italian'
            WHEN 'ru' THEN 'kb_russian' WHEN 'hu' THEN 'kb_hungarian'
            WHEN 'ro' THEN 'kb_romanian' ELSE 'kb_simple' END)::regconfig
    $$
"""

# A tsvector holds at most 1 MB: a body that outgrows it is searched by its title alone
# rather than refused (bodies are capped well below that; this is the last resort).
DOCUMENT = """
    CREATE FUNCTION kb_document(locale text, title text, body text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
    DECLARE
        config regconfig := kb_search_config(locale);
        heading tsvector := setweight(to_tsvector(config, coalesce(title, '')), 'A');
    BEGIN
        RETURN heading || setweight(to_tsvector(config, coalesce(body, '')), 'B');
    EXCEPTION WHEN program_limit_exceeded THEN
        RETURN heading;
    END
    $$
"""


def _timestamps() -> list[sa.Column[object]]:
    return [
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
    ]


def _structure(name: str) -> list[sa.Column[object]]:
    return [
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    ]


def upgrade() -> None:
    # Trusted since PostgreSQL 13: the database owner may create it without superuser rights.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    for name, (source, stemmer) in CONFIGURATIONS.items():
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {source})")
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {name} "
            f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stemmer}"
        )
    op.execute(SEARCH_CONFIG)
    op.execute(DOCUMENT)

    op.create_table("kb_categories", *_structure("kb_categories"))
    op.create_index("ix_kb_categories_position", "kb_categories", ["position", "id"])
    op.create_table(
        "kb_sections",
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        *_structure("kb_sections"),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["kb_categories.id"],
            name=op.f("fk_kb_sections_category_id_kb_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["kb_sections.id"],
            name=op.f("fk_kb_sections_parent_id_kb_sections"),
            ondelete="RESTRICT",
        ),
    )
    op.create_index("ix_kb_sections_category_id", "kb_sections", ["category_id", "position", "id"])
    op.create_index("ix_kb_sections_parent_id", "kb_sections", ["parent_id"])

    op.create_table(
        "kb_articles",
        sa.Column("section_id", sa.BigInteger(), nullable=False),
        sa.Column("source_locale", sa.String(length=35), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column(
            "labels", postgresql.ARRAY(sa.String(length=100)), server_default="{}", nullable=False
        ),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("promoted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("helpful_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("unhelpful_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "visibility IN ('public', 'signed_in', 'internal')",
            name=op.f("ck_kb_articles_visibility"),
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["kb_sections.id"],
            name=op.f("fk_kb_articles_section_id_kb_sections"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_kb_articles_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    op.create_index("ix_kb_articles_section_id", "kb_articles", ["section_id", "position", "id"])
    op.create_index("ix_kb_articles_position", "kb_articles", ["position", "id"])
    op.create_index("ix_kb_articles_labels", "kb_articles", ["labels"], postgresql_using="gin")

    op.create_table(
        "kb_translations",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outdated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("kb_document(locale, title, body_text)", persisted=True),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'archived')", name=op.f("ck_kb_translations_status")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_translations_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_kb_translations_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_translations")),
        sa.UniqueConstraint(
            "article_id", "locale", name=op.f("uq_kb_translations_article_id_locale")
        ),
    )
    op.create_index(
        "ix_kb_translations_search", "kb_translations", ["search_vector"], postgresql_using="gin"
    )
    op.create_index(
        "ix_kb_translations_title_trgm",
        "kb_translations",
        ["title"],
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_kb_translations_locale_status",
        "kb_translations",
        ["locale", "status", "article_id"],
    )

    op.create_table(
        "kb_revisions",
        sa.Column("translation_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("restored_from_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["translation_id"],
            ["kb_translations.id"],
            name=op.f("fk_kb_revisions_translation_id_kb_translations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_kb_revisions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_revisions")),
    )
    op.create_index("ix_kb_revisions_translation_id", "kb_revisions", ["translation_id", "id"])

    op.create_table(
        "kb_votes",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("visitor", sa.LargeBinary(length=32), nullable=False),
        sa.Column("address", sa.LargeBinary(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_votes_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_kb_votes_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_votes")),
        sa.UniqueConstraint("article_id", "visitor", name=op.f("uq_kb_votes_article_id_visitor")),
    )
    op.create_index("ix_kb_votes_address_created_at", "kb_votes", ["address", "created_at"])


def downgrade() -> None:
    op.drop_table("kb_votes")
    op.drop_table("kb_revisions")
    op.drop_table("kb_translations")
    op.drop_table("kb_articles")
    op.drop_table("kb_sections")
    op.drop_table("kb_categories")
    op.execute("DROP FUNCTION kb_document(text, text, text)")
    op.execute("DROP FUNCTION kb_search_config(text)")
    for name in reversed(CONFIGURATIONS):
        op.execute(f"DROP TEXT SEARCH CONFIGURATION {name}")
    op.execute("DROP EXTENSION IF EXISTS unaccent")
