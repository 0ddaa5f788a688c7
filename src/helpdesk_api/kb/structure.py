"""Categories and their sections (nested one level). Never commits: the request path does."""

from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.kb.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    NameTranslation,
    SectionCreate,
    SectionRead,
    SectionUpdate,
)
from helpdesk_api.models import KbArticle, KbCategory, KbSection

CATEGORIES = AdminResource("kb_category", "/v1/kb/categories", KbCategory, "Category")
SECTIONS = AdminResource("kb_section", "/v1/kb/sections", KbSection, "Section")

_ORDER = "position"


def category_read(category: KbCategory) -> CategoryRead:
    return CategoryRead.model_validate(category, from_attributes=True)


def section_read(section: KbSection) -> SectionRead:
    return SectionRead.model_validate(section, from_attributes=True)


def _names(translations: dict[str, NameTranslation] | None) -> dict[str, Any]:
    return {locale: t.model_dump() for locale, t in (translations or {}).items()}


def by_position(model: Any) -> list[SortKey]:
    return [
        SortKey(model.position, lambda row: row.position),
        SortKey(model.id, lambda row: row.id),
    ]


async def list_categories(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[KbCategory], str | None]:
    return await paginate(
        session,
        select(KbCategory),
        keys=by_position(KbCategory),
        limit=limit,
        cursor=cursor,
        ordering=_ORDER,
    )


async def create_category(
    session: AsyncSession, actor: Principal, data: CategoryCreate
) -> KbCategory:
    category = KbCategory(
        name=data.name,
        description=data.description,
        translations=_names(data.translations),
        position=data.position or 0,
    )
    session.add(category)
    await session.flush()
    await session.refresh(category)
    await CATEGORIES.record_created(session, actor_id=actor.user_id, read=category_read(category))
    return category


async def update_category(
    session: AsyncSession, actor: Principal, category: KbCategory, data: CategoryUpdate
) -> KbCategory:
    fields = data.model_dump(exclude_unset=True)
    if "translations" in fields:  # whole entries: exclude_unset drops unset nested fields
        fields["translations"] = _names(data.translations)
    changes = field_changes({name: getattr(category, name) for name in fields}, fields)
    if not changes:
        return category
    for change in changes:
        setattr(category, change["field"], change["to"])
    await session.flush()
    await session.refresh(category)
    await CATEGORIES.record_updated(
        session, actor_id=actor.user_id, resource_id=category.id, changes=changes
    )
    return category


async def delete_category(session: AsyncSession, actor: Principal, category: KbCategory) -> None:
    """Only an empty category: its sections must be moved or deleted first (409)."""
    if await session.scalar(select(exists().where(KbSection.category_id == category.id))):
        raise Conflict(f"Category {category.id} still has sections: move or delete them first.")
    await session.delete(category)
    await session.flush()
    await record_event(
        session,
        EventType.kb_category_deleted,
        actor_id=actor.user_id,
        data={"kb_category_id": category.id},
    )


def sections_statement(*, category_id: int | None, parent_id: int | None) -> Select[Any]:
    statement = select(KbSection)
    if category_id is not None:
        statement = statement.where(KbSection.category_id == category_id)
    if parent_id is not None:
        statement = statement.where(KbSection.parent_id == parent_id)
    return statement


async def list_sections(
    session: AsyncSession,
    *,
    category_id: int | None,
    parent_id: int | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[KbSection], str | None]:
    return await paginate(
        session,
        sections_statement(category_id=category_id, parent_id=parent_id),
        keys=by_position(KbSection),
        limit=limit,
        cursor=cursor,
        ordering=_ORDER,
    )


async def _check_placement(
    session: AsyncSession, *, section_id: int | None, category_id: int, parent_id: int | None
) -> None:
    """The category exists; a parent is a top-level section of the same category; a section
    with subsections cannot become one (nesting stays one level deep)."""
    if await session.get(KbCategory, category_id) is None:
        raise InvalidInput(
            f"Category {category_id} does not exist.",
            loc=("body", "category_id"),
            type="unknown_category",
        )
    if parent_id is None:
        return
    parent = await session.get(KbSection, parent_id)
    loc = ("body", "parent_id")
    if parent is None or parent.id == section_id:
        raise InvalidInput(f"Section {parent_id} cannot be the parent.", loc=loc)
    if parent.parent_id is not None:
        raise InvalidInput(
            f"Section {parent_id} is itself a subsection: sections nest one level.",
            loc=loc,
            type="too_deep",
        )
    if parent.category_id != category_id:
        raise InvalidInput(
            f"Section {parent_id} belongs to category {parent.category_id}, not {category_id}.",
            loc=loc,
            type="other_category",
        )
    if section_id is not None and await session.scalar(
        select(exists().where(KbSection.parent_id == section_id))
    ):
        raise InvalidInput(
            f"Section {section_id} has subsections, so it cannot become one.",
            loc=loc,
            type="too_deep",
        )


async def create_section(session: AsyncSession, actor: Principal, data: SectionCreate) -> KbSection:
    await _check_placement(
        session, section_id=None, category_id=data.category_id, parent_id=data.parent_id
    )
    section = KbSection(
        category_id=data.category_id,
        parent_id=data.parent_id,
        name=data.name,
        description=data.description,
        translations=_names(data.translations),
        position=data.position or 0,
    )
    session.add(section)
    await session.flush()
    await session.refresh(section)
    await SECTIONS.record_created(session, actor_id=actor.user_id, read=section_read(section))
    return section


async def update_section(
    session: AsyncSession, actor: Principal, section: KbSection, data: SectionUpdate
) -> KbSection:
    fields = data.model_dump(exclude_unset=True)
    if "translations" in fields:  # whole entries: exclude_unset drops unset nested fields
        fields["translations"] = _names(data.translations)
    changes = field_changes({name: getattr(section, name) for name in fields}, fields)
    if not changes:
        return section
    category_id = fields.get("category_id", section.category_id)
    parent_id = fields.get("parent_id", section.parent_id)
    if "category_id" in fields or "parent_id" in fields:
        await _check_placement(
            session, section_id=section.id, category_id=category_id, parent_id=parent_id
        )
    for change in changes:
        setattr(section, change["field"], change["to"])
    if "category_id" in fields:
        children = await session.scalars(
            select(KbSection).where(KbSection.parent_id == section.id).with_for_update()
        )
        for child in children:
            child.category_id = category_id
    await session.flush()
    await session.refresh(section)
    await SECTIONS.record_updated(
        session, actor_id=actor.user_id, resource_id=section.id, changes=changes
    )
    return section


async def delete_section(session: AsyncSession, actor: Principal, section: KbSection) -> None:
    """Only an empty section: no subsections and no articles (409 otherwise)."""
    if await session.scalar(select(exists().where(KbSection.parent_id == section.id))):
        raise Conflict(f"Section {section.id} has subsections: move or delete them first.")
    if await session.scalar(select(exists().where(KbArticle.section_id == section.id))):
        raise Conflict(f"Section {section.id} has articles: move or delete them first.")
    await session.delete(section)
    await session.flush()
    await record_event(
        session,
        EventType.kb_section_deleted,
        actor_id=actor.user_id,
        data={"kb_section_id": section.id},
    )
