"""``POST /v1/tickets/{id}/macros/apply``: several macros on one ticket, in order.

Planned with the triggers' own machinery — ``plan`` each macro's actions against the ticket
as the earlier macros left it, check each change against what exists now (``Applier`` and
its ``References``), and write the accepted changes with ``write_planned`` after an audit
note ``{field: "macro", to: {id, title}}`` per macro — so a later macro wins on a field,
and a status, group or agent deactivated since the macro was saved is a 422 naming the
macro, before anything is written. Applied, the change goes through the ticket pipeline
(triggers, routing, SLA, notifications) as the agent, ``via: macro``; a preview stops
after planning and rendering, and writes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.permissions import TicketAction, require
from helpdesk_api.automation.actions import Action, ChangeKind, plan
from helpdesk_api.automation.applying import (
    Applier,
    References,
    load_references,
    write_planned,
)
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.facts_loading import load_facts
from helpdesk_api.automation.fields import Field, UpdateType
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.core.settings import Settings
from helpdesk_api.macros.access import not_found, visible_macros
from helpdesk_api.macros.comment import render_comment
from helpdesk_api.macros.schemas import (
    AppliedComment,
    AppliedMacro,
    MacroApplication,
    MacroApply,
    MacroTicketFields,
)
from helpdesk_api.models import Macro, StatusCategory, Ticket, TicketCc, Via
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets import ChangeSet, NewComment, add_comment, commit_change

_ACTIONS = TypeAdapter(list[Action])


@dataclass(frozen=True)
class MacroRule:
    """A macro as the triggers' applier and writer see a rule."""

    id: int
    title: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Plan:
    macros: list[Macro]
    rules: list[MacroRule]
    applier: Applier
    references: References
    comment: AppliedComment | None


async def load_macros(
    session: AsyncSession, principal: Principal, macro_ids: Sequence[int]
) -> list[Macro]:
    """The macros in the order asked: one the caller may not see is a 404 (another agent's
    personal macro does not exist for them); an inactive one, or one named twice, a 422."""
    seen: set[int] = set()
    for index, macro_id in enumerate(macro_ids):
        if macro_id in seen:
            raise InvalidInput(
                f"Macro {macro_id} is listed twice.", loc=("body", "macro_ids", index)
            )
        seen.add(macro_id)
    found = {
        m.id: m
        for m in await session.scalars(visible_macros(principal).where(Macro.id.in_(macro_ids)))
    }
    for index, macro_id in enumerate(macro_ids):
        macro = found.get(macro_id)
        if macro is None:
            raise not_found(macro_id)
        if not macro.is_active:
            raise InvalidInput(
                f"Macro {macro_id} ({macro.title}) is inactive.", loc=("body", "macro_ids", index)
            )
    return [found[i] for i in macro_ids]


def _ensure_open(ticket: Ticket) -> None:
    if ticket.status_category == StatusCategory.closed:
        raise Conflict(
            f"Ticket {ticket.id} is closed and can no longer change; open a follow-up ticket."
        )


async def plan_macros(
    session: AsyncSession, principal: Principal, ticket: Ticket, data: MacroApply
) -> Plan:
    """Everything the macros would do, checked; raises before anything is written."""
    _ensure_open(ticket)
    require(principal, ticket, TicketAction.edit)
    macros = await load_macros(session, principal, data.macro_ids)
    rules = [MacroRule(m.id, m.title, tuple(_ACTIONS.validate_python(m.actions))) for m in macros]
    facts = await load_facts(
        session,
        ticket,
        update_type=UpdateType.changed,
        via=Via.macro,
        actor_role=principal.role,
        comment_text=None,
        comment_public=False,
    )
    references = await load_references(session, rules, facts)
    applier = Applier(references, facts)
    for index, rule in enumerate(rules):
        planned = plan(rule.actions, applier.facts)
        applier.apply(rule, planned)
        where = f"Macro {rule.id} ({rule.title})"
        if rule.id in applier.errors:
            raise InvalidInput(
                f"{where} cannot be applied to ticket {ticket.id}: {applier.errors[rule.id]}.",
                loc=("body", "macro_ids", index),
            )
        if len(applier.accepted[-1][1]) < len(planned):
            raise Conflict(f"{where} would change ticket {ticket.id} after it is closed.")
    comment = await render_comment(session, principal, ticket, macros)
    return Plan(macros, rules, applier, references, comment)


def _tags_after(current: Sequence[str], planned: Plan) -> list[str]:
    # In the order ``write_planned`` leaves them, one tag change after another: kept tags
    # in place, each change's new ones sorted after them.
    tags = list(current)
    for _, accepted in planned.applier.accepted:
        for change in accepted:
            if change.field is Field.tags:
                after: frozenset[str] = change.after
                tags = [t for t in tags if t in after] + sorted(after - set(tags))
    return tags


async def _copied(session: AsyncSession, ticket_id: int) -> list[int]:
    """Everyone on the ticket's CC list: customers copied and staff following."""
    rows = await session.scalars(
        select(TicketCc.user_id).where(TicketCc.ticket_id == ticket_id).order_by(TicketCc.user_id)
    )
    return list(rows)


async def preview(session: AsyncSession, ticket: Ticket, planned: Plan) -> MacroApplication:
    facts: TicketFacts = planned.applier.facts
    added = {
        change.after
        for _, accepted in planned.applier.accepted
        for change in accepted
        if change.kind is ChangeKind.cc and change.after != ticket.requester_id
    }
    status_id, category = facts.status_id, facts.status_category
    opens = planned.comment is not None and planned.comment.public
    if opens and category == StatusCategory.new and status_id == ticket.status_id:
        # An agent's public reply opens a new ticket, unless a macro set another status.
        status = await default_status(session, StatusCategory.open)
        status_id, category = status.id, status.category
    return MacroApplication(
        preview=True,
        macros=[AppliedMacro(id=m.id, title=m.title) for m in planned.macros],
        ticket=MacroTicketFields(
            status_id=status_id,
            status_category=StatusCategory(category),
            priority=facts.priority,
            type=facts.type,
            group_id=facts.group_id,
            assignee_id=facts.assignee_id,
            tags=_tags_after(ticket.tags, planned),
            cc_user_ids=sorted(set(await _copied(session, ticket.id)) | added),
        ),
        comment=planned.comment,
        comment_id=None,
    )


async def apply(
    session: AsyncSession,
    principal: Principal,
    ticket: Ticket,
    planned: Plan,
    *,
    now: datetime,
    settings: Settings,
) -> MacroApplication:
    """Writes the plan on the locked ticket as the agent, through the ticket pipeline."""
    actor = Actor.of(principal, Via.macro)
    changes = ChangeSet()
    comment_id: int | None = None
    if planned.comment is not None:
        # First, so a status a macro sets wins over the one a public reply moves to.
        written = NewComment(body=planned.comment.body, public=planned.comment.public)
        row = await add_comment(session, ticket, written, actor=actor, changes=changes, now=now)
        comment_id = row.id
    for rule, accepted in planned.applier.accepted:
        await write_planned(
            session, ticket, changes, kind="macro", rule=rule, accepted=accepted,
            references=planned.references, actor=actor, now=now, settings=settings,
        )  # fmt: skip
    ticket.updated_at = now
    await session.flush()
    await commit_change(session, ticket, changes, actor=actor, now=now)
    # Not the macros' version: being used is not an edit (an admin's If-Match stays good).
    await session.execute(
        update(Macro)
        .where(Macro.id.in_([m.id for m in planned.macros]))
        .values(usage_count=Macro.usage_count + 1, last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return MacroApplication(
        preview=False,
        macros=[AppliedMacro(id=m.id, title=m.title) for m in planned.macros],
        ticket=MacroTicketFields(
            status_id=ticket.status_id,
            status_category=StatusCategory(ticket.status_category),
            priority=ticket.priority,
            type=ticket.type,
            group_id=ticket.group_id,
            assignee_id=ticket.assignee_id,
            tags=list(ticket.tags),
            cc_user_ids=await _copied(session, ticket.id),
        ),
        comment=planned.comment,
        comment_id=comment_id,
    )
