"""Staff shapes of translations and their revisions."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from helpdesk_api.core.html import within_tag_limit
from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import Lines, OneLine
from helpdesk_api.models import TranslationStatus

Title = Annotated[str, Field(min_length=1, max_length=300), OneLine]
# As a comment's html_body: sanitised on the way in (scripts, handlers and styles removed).
Body = Annotated[
    str, Field(min_length=1, max_length=262_144), Lines, AfterValidator(within_tag_limit)
]

BODY = (
    "HTML, sanitised as comments' `html_body` are: formatting, links, lists, tables and "
    "images are kept; scripts, event handlers, styles and other tags are removed."
)
STATUS = (
    "`draft`: staff only; `published`: readable per the article's visibility; `archived`: "
    "withdrawn, staff only."
)


class TranslationWrite(StrictModel):
    """Creates the translation, or replaces its title, body and status."""

    title: Title
    body: Body = Field(description=BODY)
    status: TranslationStatus | None = Field(
        default=None, description=STATUS + " Default when left out: `draft`."
    )


class TranslationUpdate(StrictModel):
    title: Title = omittable()
    body: Body = omittable()
    status: TranslationStatus = omittable()


class TranslationRead(BaseModel):
    id: int
    article_id: int
    locale: str
    title: str
    body: str = Field(description="Sanitised HTML.")
    status: TranslationStatus = Field(description=STATUS)
    outdated: bool = Field(
        description="The source locale's title or body changed after this one was written."
    )
    author_id: int | None = Field(description="Who wrote it last.")
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TranslationPage(Page[TranslationRead]):
    pass


class RevisionRead(BaseModel):
    id: int
    translation_id: int
    title: str
    body: str
    status: TranslationStatus
    author_id: int | None
    restored_from_id: int | None = Field(description="The revision this one restored.")
    created_at: datetime


class RevisionPage(Page[RevisionRead]):
    pass


class ArticleAttachmentRead(BaseModel):
    """A file of a translation."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    url: str = Field(
        description="Its public path, for inline images (`<img src=…>`) and links: served to "
        "whoever may read the translation."
    )


class ArticleAttachmentPage(Page[ArticleAttachmentRead]):
    pass
