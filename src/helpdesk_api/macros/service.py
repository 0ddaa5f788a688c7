"""Macros as agents and admins manage them. Never commits: the request path does.

A macro is refused when saved, with the path of the bad part, if it could not work: what
the schema refuses, an action a macro may not take, what only the database can tell (a
deleted or inactive status, group, agent or CC — the triggers' own check) and a comment
template that does not render strictly against the sample.
"""

from typing import Any

from sqlalchemy import Select, delete, func
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.sharing import change_sharing, check_new_sharing, ensure_may_manage
from helpdesk_api.automation.actions import (
    Action,
    AddNote,
    CallWebhook,
    Notify,
    PublicReply,
    Route,
)
from helpdesk_api.automation.service import check_actions
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.macros.access import not_found, visible_macros
from helpdesk_api.macros.rendering import check_template
from helpdesk_api.macros.schemas import (
    MacroComment,
    MacroCreate,
    MacroPage,
    MacroRead,
    MacroUpdate,
    comment_of,
)
from helpdesk_api.models import Macro, MacroVisibility

# The ETag, Location and created/updated events of every admin resource.
MACROS = AdminResource("macro", "/v1/macros", Macro, "Macro")

# Actions that do not fit an agent's click: they would mail, call out or route behind the
# agent's back, or write a second comment beside the macro's own ``comment``.
REFUSED_ACTIONS: dict[type, str] = {
    Notify: "macros send nothing; the comment is the reply",
    CallWebhook: "macros call no webhooks; that is a trigger's job",
    Route: "macros do not route; set the group or the assignee",
    AddNote: "use the macro's comment (public: false)",
    PublicReply: "use the macro's comment (public: true)",
}


def to_read(macro: Macro) -> MacroRead:
    return MacroRead(
        id=macro.id,
        title=macro.title,
        description=macro.description,
        active=macro.is_active,
        visibility=MacroVisibility(macro.visibility),
        group_id=macro.group_id,
        owner_id=macro.owner_id,
        actions=macro.actions,  # validated into Action models
        comment=comment_of(macro.comment),
        usage_count=macro.usage_count,
        last_used_at=macro.last_used_at,
        created_at=macro.created_at,
        updated_at=macro.updated_at,
    )


def _search(statement: Select[Macro], q: str) -> Select[Macro]:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return statement.where(Macro.title.ilike(f"%{escaped}%", escape="\\"))


async def list_macros(
    session: AsyncSession,
    principal: Principal,
    *,
    q: str | None,
    active: bool | None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> MacroPage:
    statement = visible_macros(principal)
    if q:
        statement = _search(statement, q)
    if active is not None:
        statement = statement.where(Macro.is_active.is_(active))
    if sort == "title":
        keys = [SortKey(Macro.title, lambda m: m.title), SortKey(Macro.id, lambda m: m.id)]
    else:
        keys = [
            SortKey(Macro.usage_count, lambda m: m.usage_count, descending=True),
            SortKey(Macro.id, lambda m: m.id, descending=True),
        ]
    macros, next_cursor = await paginate(
        session, statement, keys=keys, limit=limit, cursor=cursor, ordering=sort
    )
    return MacroPage(data=[to_read(m) for m in macros], next_cursor=next_cursor)


async def get_macro(
    session: AsyncSession, principal: Principal, macro_id: int, *, for_update: bool = False
) -> Macro:
    statement = visible_macros(principal).where(Macro.id == macro_id)
    if for_update:
        statement = statement.with_for_update()
    macro = await session.scalar(statement)
    if macro is None:
        raise not_found(macro_id)
    return macro


def _check_allowed(actions: list[Action]) -> None:
    for index, action in enumerate(actions):
        reason = REFUSED_ACTIONS.get(type(action))
        if reason is not None:
            raise InvalidInput(
                f"actions[{index}]: {action.action} is not available in a macro: {reason}.",
                loc=("body", "actions", index, "action"),
            )


def _check_comment(comment: MacroComment) -> None:
    templates: list[tuple[str, str | None, str]] = [("body_template", None, comment.body_template)]
    templates += [("translations", tag, body) for tag, body in comment.translations.items()]
    for part, tag, source in templates:
        problem = check_template(source, tag or "en")
        if problem is not None:
            loc: tuple[str | int, ...] = ("body", "comment", part)
            where = f"comment.{part}"
            if tag is not None:
                loc, where = (*loc, tag), f"{where}[{tag}]"
            raise InvalidInput(f"{where}: {problem.rstrip('.')}.", loc=loc)


async def _check_content(
    session: AsyncSession, actions: list[Action], comment: MacroComment | None
) -> None:
    if not actions and comment is None:
        raise InvalidInput("A macro needs actions, a comment or both.", loc=("body", "actions"))
    _check_allowed(actions)
    await check_actions(session, actions)
    if comment is not None:
        _check_comment(comment)


def _dump_actions(actions: list[Action]) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json") for a in actions]


def _dump_comment(comment: MacroComment | None) -> dict[str, Any] | None:
    return None if comment is None else comment.model_dump(mode="json")


async def create_macro(session: AsyncSession, principal: Principal, data: MacroCreate) -> Macro:
    owner_id = await check_new_sharing(session, principal, data.visibility, data.group_id, "macro")
    await _check_content(session, data.actions, data.comment)
    macro = Macro(
        title=data.title,
        description=data.description,
        is_active=data.active,
        visibility=data.visibility,
        group_id=data.group_id,
        owner_id=owner_id,
        actions=_dump_actions(data.actions),
        comment=_dump_comment(data.comment),
        created_by_id=principal.user_id,
    )
    session.add(macro)
    await session.flush()
    await session.refresh(macro)
    await MACROS.record_created(session, actor_id=principal.user_id, read=to_read(macro))
    return macro


def _snapshot(macro: Macro) -> dict[str, Any]:
    read = to_read(macro).model_dump(mode="json")
    names = ("title", "description", "active", "visibility", "group_id", "owner_id")
    return {k: read[k] for k in names} | {"actions": read["actions"], "comment": read["comment"]}


async def update_macro(
    session: AsyncSession, principal: Principal, macro: Macro, data: MacroUpdate
) -> Macro:
    """The caller must manage the macro as it is and as it will be: an agent cannot share
    a personal macro, nor an admin turn a shared one into someone's personal one."""
    fields = data.model_dump(exclude_unset=True)
    before = _snapshot(macro)
    await change_sharing(
        session, principal, macro, fields=fields, visibility=data.visibility,
        group_id=data.group_id, noun="macro",
    )  # fmt: skip
    if "actions" in fields or "comment" in fields:
        actions = data.actions if "actions" in fields else to_read(macro).actions
        comment = data.comment if "comment" in fields else comment_of(macro.comment)
        await _check_content(session, actions, comment)
        macro.actions = _dump_actions(actions)
        macro.comment = _dump_comment(comment)
    for name, attribute in (("title", "title"), ("description", "description"),
                            ("active", "is_active")):  # fmt: skip
        if name in fields:
            setattr(macro, attribute, fields[name])
    changes = field_changes(before, _snapshot(macro))
    if changes:
        macro.updated_at = func.now()
        await session.flush()
        await session.refresh(macro)
        await MACROS.record_updated(
            session, actor_id=principal.user_id, resource_id=macro.id, changes=changes
        )
    return macro


async def delete_macro(session: AsyncSession, principal: Principal, macro: Macro) -> None:
    ensure_may_manage(principal, macro.visibility, "macro")
    read = to_read(macro)
    await session.execute(delete(Macro).where(Macro.id == macro.id))
    await record_event(
        session,
        EventType.macro_deleted,
        actor_id=principal.user_id,
        data={"macro": read.model_dump(mode="json")},
    )
