"""The knowledge base: categories, their sections, articles, and each article's translations,
revisions and visitors' votes."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk_api.models.base import Base, IdMixin, TimestampMixin


class ArticleVisibility(StrEnum):
    public = "public"  # anyone, without a token
    signed_in = "signed_in"  # any signed-in user (customers included)
    internal = "internal"  # staff only


class TranslationStatus(StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class KbCategory(IdMixin, TimestampMixin, Base):
    __tablename__ = "kb_categories"
    __table_args__ = (Index("ix_kb_categories_position", "position", "id"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # {locale: {"name", "description"}}: shown for that locale, the default otherwise.
    translations: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class KbSection(IdMixin, TimestampMixin, Base):
    """A section of a category, or a subsection of a section (one level of nesting)."""

    __tablename__ = "kb_sections"
    __table_args__ = (
        Index("ix_kb_sections_category_id", "category_id", "position", "id"),
        Index("ix_kb_sections_parent_id", "parent_id"),
    )

    category_id: Mapped[int] = mapped_column(ForeignKey("kb_categories.id", ondelete="RESTRICT"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_sections.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # {locale: {"name", "description"}}: shown for that locale, the default otherwise.
    translations: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class KbArticle(IdMixin, TimestampMixin, Base):
    __tablename__ = "kb_articles"
    __table_args__ = (
        CheckConstraint("visibility IN ('public', 'signed_in', 'internal')", name="visibility"),
        Index("ix_kb_articles_section_id", "section_id", "position", "id"),
        Index("ix_kb_articles_position", "position", "id"),
        Index("ix_kb_articles_labels", "labels", postgresql_using="gin"),
    )

    section_id: Mapped[int] = mapped_column(ForeignKey("kb_sections.id", ondelete="RESTRICT"))
    # The locale the others are translated from: a change of its text flags them outdated.
    source_locale: Mapped[str] = mapped_column(String(35))
    visibility: Mapped[str] = mapped_column(String(20))
    labels: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list, server_default="{}")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    promoted: Mapped[bool] = mapped_column(default=False, server_default=false())
    helpful_count: Mapped[int] = mapped_column(default=0, server_default="0")
    unhelpful_count: Mapped[int] = mapped_column(default=0, server_default="0")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    translations: Mapped[list["KbTranslation"]] = relationship(
        lazy="raise", order_by="KbTranslation.locale", viewonly=True
    )

    __mapper_args__ = {"version_id_col": version}


class KbTranslation(IdMixin, TimestampMixin, Base):
    __tablename__ = "kb_translations"
    __table_args__ = (
        UniqueConstraint("article_id", "locale", name="uq_kb_translations_article_id_locale"),
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="status"),
        Index("ix_kb_translations_search", "search_vector", postgresql_using="gin"),
        Index(
            "ix_kb_translations_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        Index("ix_kb_translations_locale_status", "locale", "status", "article_id"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # sanitised HTML
    body_text: Mapped[str] = mapped_column(Text)  # its plain text, for search and snippets
    status: Mapped[str] = mapped_column(String(20))
    # The source locale's text changed after this translation was last written.
    outdated: Mapped[bool] = mapped_column(default=False, server_default=false())
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None]
    # Title (weight A) over body (B), stemmed with the locale's configuration (migration 0015).
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed("kb_document(locale, title, body_text)", persisted=True),
        # Only ever read by SQL: never loaded into rows (kilobytes each).
        deferred=True,
    )
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class KbRevision(IdMixin, Base):
    """A translation as it was written, once per write of its title, body or status."""

    __tablename__ = "kb_revisions"
    __table_args__ = (Index("ix_kb_revisions_translation_id", "translation_id", "id"),)

    translation_id: Mapped[int] = mapped_column(
        ForeignKey("kb_translations.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The revision this one restored, when it was written by a restore.
    restored_from_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class KbVote(IdMixin, Base):
    """One visitor's vote on an article; voting again replaces it."""

    __tablename__ = "kb_votes"
    __table_args__ = (
        UniqueConstraint("article_id", "visitor", name="uq_kb_votes_article_id_visitor"),
        Index("ix_kb_votes_address_created_at", "address", "created_at"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    # sha256 of who voted (a user id, or a client address with a visitor id): never the
    # address itself.
    visitor: Mapped[bytes] = mapped_column(LargeBinary(32))
    # sha256 of the client address alone, to limit how many votes one address casts.
    address: Mapped[bytes] = mapped_column(LargeBinary(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    helpful: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class KbAttachment(IdMixin, Base):
    """A stored file (``attachments``) that belongs to a translation: listed with it, shown
    inline in its body, and served publicly exactly when the translation may be read. A file
    linked here is never a comment's too."""

    __tablename__ = "kb_attachments"
    __table_args__ = (Index("ix_kb_attachments_translation_id", "translation_id", "id"),)

    translation_id: Mapped[int] = mapped_column(
        ForeignKey("kb_translations.id", ondelete="CASCADE")
    )
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
