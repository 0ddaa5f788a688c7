"""Staff shapes of categories, sections and articles."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty, OneLine
from helpdesk_api.kb.locales import Locale
from helpdesk_api.models import ArticleVisibility, TranslationStatus

Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Description = Annotated[str, Field(max_length=10_000), LinesOrEmpty]
Position = Annotated[StrictInt, Field(ge=-1_000_000, le=1_000_000)]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine
]
Labels = Annotated[list[Label], Field(max_length=50)]


class NameTranslation(StrictModel):
    name: Name
    description: Description | None = Field(
        default=None, description="Default: none (the default description is not used)."
    )


NameTranslations = Annotated[
    dict[Locale, NameTranslation],
    Field(
        max_length=50,
        description="Name and description per locale, shown by the public API for that "
        "locale (or its language); other locales read `name` and `description`. A write "
        "replaces the whole map.",
    ),
]

POSITION = "Order among siblings, ascending (ties: by id). Default when left out: `0`."
VISIBILITY = (
    "`public`: anyone, without a token; `signed_in`: any signed-in user, customers "
    "included; `internal`: staff only, never through `/v1/public/`."
)


class CategoryCreate(StrictModel):
    name: Name
    description: Description | None = None
    translations: NameTranslations | None = Field(default=None)
    position: Position | None = Field(default=None, description=POSITION)


class CategoryUpdate(StrictModel):
    name: Name = omittable()
    description: Description | None = None
    translations: NameTranslations = omittable()
    position: Position = omittable()


class CategoryRead(BaseModel):
    id: int
    name: str
    description: str | None
    translations: dict[str, NameTranslation]
    position: int
    created_at: datetime
    updated_at: datetime


class CategoryPage(Page[CategoryRead]):
    pass


class SectionCreate(StrictModel):
    category_id: Id
    parent_id: Id | None = Field(
        default=None,
        description="A top-level section of the same category: sections nest one level.",
    )
    name: Name
    description: Description | None = None
    translations: NameTranslations | None = Field(default=None)
    position: Position | None = Field(default=None, description=POSITION)


class SectionUpdate(StrictModel):
    """Moving a section to another category moves its subsections with it."""

    category_id: Id = omittable()
    parent_id: Id | None = None
    name: Name = omittable()
    description: Description | None = None
    translations: NameTranslations = omittable()
    position: Position = omittable()


class SectionRead(BaseModel):
    id: int
    category_id: int
    parent_id: int | None
    name: str
    description: str | None
    translations: dict[str, NameTranslation]
    position: int
    created_at: datetime
    updated_at: datetime


class SectionPage(Page[SectionRead]):
    pass


class ArticleCreate(StrictModel):
    section_id: Id
    source_locale: Locale = Field(
        description="The locale translated from: when its title or body changes, the "
        "other translations are flagged `outdated`."
    )
    visibility: ArticleVisibility = Field(description=VISIBILITY)
    labels: Labels | None = Field(default=None, description="Tags. Default: none.")
    position: Position | None = Field(default=None, description=POSITION)
    promoted: StrictBool | None = Field(
        default=None, description="Listed first. Default when left out: `false`."
    )


class ArticleUpdate(StrictModel):
    section_id: Id = omittable()
    source_locale: Locale = omittable()
    visibility: ArticleVisibility = omittable()
    labels: Labels = omittable()
    position: Position = omittable()
    promoted: StrictBool = omittable()


class TranslationSummary(BaseModel):
    locale: str
    title: str
    status: TranslationStatus
    outdated: bool
    updated_at: datetime


class ArticleRead(BaseModel):
    id: int
    section_id: int
    source_locale: str
    visibility: ArticleVisibility
    labels: list[str]
    author_id: int | None
    position: int
    promoted: bool
    helpful_count: int
    unhelpful_count: int
    translations: list[TranslationSummary]
    created_at: datetime
    updated_at: datetime


class ArticlePage(Page[ArticleRead]):
    pass
