"""The ``data`` of the knowledge base's events. All are staff-only: customers' feeds carry
only their tickets' events, and an internal article's changes must not reach them."""

from pydantic import Field

from helpdesk_api.event_catalogue.payloads import Changes, Payload
from helpdesk_api.kb.deflection_schemas import DeflectionRead
from helpdesk_api.kb.schemas import ArticleRead, CategoryRead, SectionRead
from helpdesk_api.kb.translation_schemas import TranslationRead


class KbCategoryCreated(Payload):
    kb_category: CategoryRead


class KbCategoryUpdated(Payload):
    kb_category_id: int
    changes: Changes


class KbCategoryDeleted(Payload):
    kb_category_id: int


class KbSectionCreated(Payload):
    kb_section: SectionRead


class KbSectionUpdated(Payload):
    kb_section_id: int
    changes: Changes


class KbSectionDeleted(Payload):
    kb_section_id: int


class ArticleCreated(Payload):
    article: ArticleRead


class ArticleUpdated(Payload):
    article_id: int
    locale: str | None = Field(
        description="The translation that changed; null for the article's own fields."
    )
    changes: Changes = Field(
        description="`title`, `body` (redacted: read the translation) and `status` of a "
        "translation; the article's own fields otherwise."
    )
    restored_revision_id: int | None = Field(
        default=None, description="Set when the change restored this revision."
    )


class ArticlePublished(Payload):
    article_id: int
    locale: str
    translation: TranslationRead


class ArticleTranslationRef(Payload):
    article_id: int
    locale: str


class ArticleDeleted(Payload):
    article_id: int


class DeflectionEvent(Payload):
    deflection: DeflectionRead
