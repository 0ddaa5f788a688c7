"""What the public self-service API shows: published text and nothing staff-only."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel
from helpdesk_api.core.text import LinesOrEmpty
from helpdesk_api.kb.locales import Locale
from helpdesk_api.kb.search import Matched

SNIPPET = (
    "Fragments of the body around the matches, as HTML: the text escaped, matches in "
    "`<mark>`. Null when listing without `q`."
)


NAMES_LOCALE = (
    "The locale `name` and `description` are in: the one asked for (or of its language) "
    "when translated; null for the default names."
)


class PublicCategoryRead(BaseModel):
    id: int
    name: str
    description: str | None
    locale: str | None = Field(description=NAMES_LOCALE)
    position: int


class PublicCategoryPage(Page[PublicCategoryRead]):
    pass


class PublicSectionRead(BaseModel):
    id: int
    category_id: int
    parent_id: int | None
    name: str
    description: str | None
    locale: str | None = Field(description=NAMES_LOCALE)
    position: int


class PublicSectionPage(Page[PublicSectionRead]):
    pass


class PublicArticleSummary(BaseModel):
    id: int = Field(description="The article's id.")
    locale: str
    title: str
    snippet: str | None = Field(description=SNIPPET)
    matched: Matched | None = Field(
        description="`full_text`: the words (stemmed) matched; `fuzzy`: nothing did, and a "
        "short query was matched by similar titles (typos). Null without `q`."
    )
    section_id: int
    labels: list[str]
    promoted: bool
    updated_at: datetime


class PublicArticlePage(Page[PublicArticleSummary]):
    pass


class PublicArticleRead(BaseModel):
    id: int
    locale: str
    title: str
    body: str = Field(description="Sanitised HTML.")
    section_id: int
    labels: list[str]
    promoted: bool
    locales: list[str] = Field(description="Every locale the article is published in for you.")
    helpful_count: int
    unhelpful_count: int
    published_at: datetime | None
    updated_at: datetime
    attachments: list["PublicAttachment"] = Field(
        description="The translation's files (images shown inline, documents to link)."
    )


class PublicAttachment(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str = Field(description="`/v1/public/kb/articles/{id}/attachments/{attachment_id}`.")


class VoteCreate(StrictModel):
    helpful: StrictBool


class VoteRead(BaseModel):
    article_id: int
    helpful: bool = Field(description="Your vote as it now stands.")
    changed: bool = Field(
        description="False when the vote repeats the one you had cast: nothing was counted."
    )
    helpful_count: int
    unhelpful_count: int


SuggestText = Annotated[str, Field(max_length=20_000), LinesOrEmpty]


class SuggestRequest(StrictModel):
    subject: Annotated[str, Field(max_length=500), LinesOrEmpty]
    body: SuggestText | None = Field(default=None, description="Default: none.")
    locale: Locale


class SuggestedArticle(BaseModel):
    id: int
    locale: str
    title: str
    snippet: str | None = Field(description=SNIPPET)
    url: str = Field(description="The article in the public API (`/v1/public/kb/articles/…`).")


class SuggestionList(BaseModel):
    data: list[SuggestedArticle]
