"""Which tickets an automation may act on: one indexed query per rule for the candidates,
and the exact check of one ticket in Python.

The query is a prefilter, never the judge. It ranges over the bounding time condition's
anchor (``timing.AutomationRule.bounding``) through the partial index
``(status_category, <anchor>, id)`` on tickets that are not closed, narrows by the ``all``
conditions that map to columns (status, priority, type, group, assignee, requester,
organisation, tags and the other time bounds), leaves out the tickets this automation has
already acted on in their current period, and pages by ``(anchor, id)``. Every candidate is
then checked again under its row lock (``CompiledAutomation.holds``): every condition, in
business hours where asked, against the row as it is now.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, not_, or_, select, tuple_, union_all
from sqlalchemy.orm import InstrumentedAttribute

from helpdesk_api.automation.actions import Action
from helpdesk_api.automation.conditions import (
    CompiledConditions,
    Condition,
    compile_conditions,
    custom_key,
)
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.fields import Field, Operator
from helpdesk_api.automation.timing import AutomationRule, TimeCondition
from helpdesk_api.models import AutomationFiring, PriorityRank, StatusCategory, Ticket
from helpdesk_api.sla.business_time import BusinessCalendar, OpeningInterval, business_time_between

OPEN_CATEGORIES = frozenset(StatusCategory) - {StatusCategory.closed}
# Business hours on a ticket without an SLA calendar, on a desk without any calendar.
FALLBACK_CALENDAR = BusinessCalendar(
    "UTC", tuple(OpeningInterval(day, time(9), time(17)) for day in range(1, 6))
)
_HOUR = timedelta(hours=1)

Cursor = tuple[datetime, int]  # (anchor, ticket id) of the last candidate seen


@dataclass(frozen=True)
class CompiledAutomation:
    id: int
    title: str
    position: int
    rule: AutomationRule
    bounding: TimeCondition
    conditions: CompiledConditions  # the ticket conditions, as the triggers compile them
    actions: tuple[Action, ...]

    @property
    def needs_calendar(self) -> bool:
        return any(c.business_hours for g in ("all", "any") for c in self.rule.conditions.time(g))

    def period_key(self, ticket: Ticket) -> datetime | None:
        value: datetime | None = getattr(ticket, self.bounding.anchor.column)
        return value

    def holds(
        self, ticket: Ticket, facts: TicketFacts, now: datetime, calendar: BusinessCalendar
    ) -> bool:
        """Every condition, against the row as it is now (locked by the caller)."""
        conditions = self.rule.conditions

        def timed(c: TimeCondition) -> bool:
            return c.holds(hours_of(c, ticket, now, calendar))

        all_held = all(timed(c) for c in conditions.time("all")) and all(
            c.test(facts) for c in self.conditions.all
        )
        if not all_held:
            return False
        any_time, any_ticket = conditions.time("any"), self.conditions.any
        if not any_time and not any_ticket:
            return True
        return any(timed(c) for c in any_time) or any(c.test(facts) for c in any_ticket)


def compile_automation(
    *, id: int, title: str, position: int, rule: AutomationRule
) -> CompiledAutomation | None:
    """None for a rule without a bounding time condition (refused when saved)."""
    bounding = rule.bounding()
    if bounding is None:
        return None
    return CompiledAutomation(
        id=id,
        title=title,
        position=position,
        rule=rule,
        bounding=bounding,
        conditions=compile_conditions(rule.conditions.ticket()),
        actions=tuple(rule.actions),
    )


def hours_of(
    condition: TimeCondition, ticket: Ticket, now: datetime, calendar: BusinessCalendar
) -> float | None:
    """Hours since (or until) the condition's anchor; None when the ticket has no such time
    or is not in the status the field speaks of."""
    anchor = condition.anchor
    if anchor.category is not None and ticket.status_category != anchor.category:
        return None
    value: datetime | None = getattr(ticket, anchor.column)
    if value is None:
        return None
    start, end = (now, value) if anchor.until else (value, now)
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    span = business_time_between(calendar, start, end) if condition.business_hours else end - start
    return sign * (span / _HOUR)


def _column(name: str) -> InstrumentedAttribute[Any]:
    column: InstrumentedAttribute[Any] = getattr(Ticket, name)
    return column


def _categories(rule: AutomationRule) -> frozenset[str]:
    allowed: frozenset[str] = OPEN_CATEGORIES
    for condition in rule.conditions.all:
        if isinstance(condition, TimeCondition):
            if condition.anchor.category is not None:
                allowed &= {condition.anchor.category}
        elif condition.field is Field.status_category:
            values = condition.value if isinstance(condition.value, list) else [condition.value]
            if condition.operator in (Operator.is_, Operator.in_):
                allowed &= frozenset(values)
            elif condition.operator in (Operator.is_not, Operator.not_in):
                allowed -= frozenset(values)
    return allowed


_COLUMNS = {
    Field.status_id: "status_id",
    Field.status_category: "status_category",
    Field.type: "type",
    Field.group_id: "group_id",
    Field.assignee_id: "assignee_id",
    Field.requester_id: "requester_id",
    Field.organization_id: "organization_id",
    Field.priority: "priority",
    Field.satisfaction: "satisfaction_score",
}


def ticket_filter(condition: Condition) -> ColumnElement[bool] | None:
    """The SQL for one ticket condition, when it maps to a column (None: checked in Python
    only). Equal to the Python test, null included. Saved views filter with it too."""
    field, op, value = condition.field, condition.operator, condition.value
    key = custom_key(field)
    if key is not None:
        return custom_field_filter(key, op, value)
    assert isinstance(field, Field)
    if field is Field.tags:
        tags = Ticket.tags
        if op is Operator.includes_all:
            contains: ColumnElement[bool] = tags.contains(value)
            return contains
        if op is Operator.includes_any:
            overlap: ColumnElement[bool] = tags.overlap(value)
            return overlap
        if op is Operator.not_includes:
            disjoint: ColumnElement[bool] = not_(tags.overlap(value))
            return disjoint
        return None
    if field is Field.priority and op in (Operator.less_than, Operator.greater_than):
        rank = PriorityRank[value].value
        return (
            Ticket.priority_rank < rank if op is Operator.less_than else Ticket.priority_rank > rank
        )
    name = _COLUMNS.get(field)
    if name is None:
        return None
    column = _column(name)
    match op:
        case Operator.is_:
            return column.is_(None) if value is None else column == value
        case Operator.is_not:
            return column.is_not(None) if value is None else column.is_distinct_from(value)
        case Operator.in_:
            return column.in_(value)
        case Operator.not_in:
            return or_(column.is_(None), column.not_in(value))
    return None


def custom_field_filter(key: str, op: Operator, value: Any) -> ColumnElement[bool]:
    """``custom_value_holds`` in SQL: containment of ``{key: value}`` or, for a multiselect,
    ``{key: [value]}``; both answered by the GIN index ``ix_tickets_custom_fields``."""
    column = Ticket.custom_fields
    holds: ColumnElement[bool] = (
        not_(column.has_key(key))
        if value is None
        else or_(column.contains({key: value}), column.contains({key: [value]}))
    )
    return holds if op is Operator.is_ else not_(holds)


def _time_filter(condition: TimeCondition, now: datetime) -> list[ColumnElement[bool]]:
    column = _column(condition.anchor.column)
    lower, upper = condition.bound(now)
    filters: list[ColumnElement[bool]] = [column.is_not(None)]
    if lower is not None:
        filters.append(column > lower if not condition.anchor.until else column >= lower)
    if upper is not None:
        filters.append(column <= upper if not condition.anchor.until else column < upper)
    return filters


def candidates_query(
    automation: CompiledAutomation, now: datetime, *, after: Cursor | None, limit: int
) -> Select[Any] | None:
    """The next ``limit`` candidates after ``after``, as ``(ticket id, anchor)``; None when
    the rule can match no ticket that may still change.

    The time indexes lead with ``status_category``, so with several categories an
    ``IN (…)`` would read every match and sort it: instead each category is its own ordered
    index range, stopped at ``limit`` rows, and the few rows merged (``UNION ALL``). The SLA
    deadline's index has no category: one range, the categories filtered."""
    rule, bounding = automation.rule, automation.bounding
    categories = sorted(_categories(rule))
    if not categories:
        return None
    anchor = _column(bounding.anchor.column)
    filters: list[ColumnElement[bool]] = []
    for condition in rule.conditions.all:
        if isinstance(condition, TimeCondition):
            filters.extend(_time_filter(condition, now))
        else:
            pushed = ticket_filter(condition)
            if pushed is not None:
                filters.append(pushed)
    if after is not None:
        filters.append(tuple_(anchor, Ticket.id) > tuple_(*after))
    filters.append(
        ~exists().where(
            AutomationFiring.automation_id == automation.id,
            AutomationFiring.ticket_id == Ticket.id,
            AutomationFiring.period_key == anchor,
        )
    )

    def page(*where: ColumnElement[bool]) -> Select[Any]:
        return (
            select(Ticket.id.label("id"), anchor.label("anchor"))
            .where(*where, *filters)
            .order_by(anchor, Ticket.id)
            .limit(limit)
        )

    if bounding.anchor.until or len(categories) == 1:
        return page(
            Ticket.status_category.in_(categories)
            if len(categories) > 1
            else Ticket.status_category == categories[0]
        )
    merged = union_all(*(page(Ticket.status_category == c) for c in categories)).subquery()
    return select(merged.c.id, merged.c.anchor).order_by(merged.c.anchor, merged.c.id).limit(limit)
