"""Reading a ticket change's facts: what the change and the ticket row carry, and what the
rules need beyond them (``LOADED_FIELDS``), read from the session when the request has
already loaded it and otherwise in one query.

A create has loaded its requester and just added its comment; reading them again cost the
trigger reaction a statement per change. Only what some rule reads is read at all
(``FactsNeeds``): a desk whose triggers never look at the organisation's tags, nor copy
anyone, reads neither.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from helpdesk_api.automation.engine import FactsNeeds
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.fields import SLA_EVENT_NAMES, SLA_EVENTS, UpdateType
from helpdesk_api.automation.store import CURRENT_VERSION
from helpdesk_api.models import (
    BusinessCalendar,
    CcKind,
    Organization,
    Ticket,
    TicketCc,
    TicketComment,
    User,
)
from helpdesk_api.sla.business_time import is_open
from helpdesk_api.sla.calendars import to_business_calendar
from helpdesk_api.tickets import TicketChange

Model = TypeVar("Model")


EVERYTHING = FactsNeeds()


async def open_calendars(
    session: AsyncSession, calendar_ids: Iterable[int], now: datetime
) -> set[int]:
    """Which of ``calendar_ids`` are within business hours at ``now`` (one query, only when
    a rule names one); a deleted calendar is never open."""
    ids = set(calendar_ids)
    if not ids:
        return set()
    rows = await session.scalars(select(BusinessCalendar).where(BusinessCalendar.id.in_(ids)))
    return {row.id for row in rows if is_open(to_business_calendar(row), now)}


def sla_events_of(changes: Sequence[Mapping[str, Any]]) -> list[str]:
    """``first_reply_time.breached`` for the SLA job's ``sla.first_reply`` notes."""
    events = []
    for entry in changes:
        name = entry["field"]
        if name.startswith("sla.") and entry.get("to") in SLA_EVENTS:
            events.append(f"{name.removeprefix('sla.')}_time.{entry['to']}")
    return [e for e in events if e in SLA_EVENT_NAMES]


def at_a_glance(change: TicketChange) -> TicketFacts:
    """The change's facts without a query: what ``LOADED_FIELDS`` name is left empty (the
    comment's text is blank but present when there is a comment)."""
    ticket, changes = change.ticket, change.changes
    return TicketFacts.of(
        update_type=UpdateType.created if change.created else UpdateType.changed,
        status_id=ticket.status_id,
        status_category=ticket.status_category,
        priority=ticket.priority,
        type=ticket.type,
        via=change.actor.via,
        group_id=ticket.group_id,
        assignee_id=ticket.assignee_id,
        requester_id=ticket.requester_id,
        organization_id=ticket.organization_id,
        tags=ticket.tags,
        comment_text="" if changes.comment_id is not None else None,
        comment_public=changes.comment_public,
        subject=ticket.subject,
        actor_role=change.actor.role,
        sla_events=sla_events_of(changes.changes),
        satisfaction=ticket.satisfaction_score,
        custom_fields=ticket.custom_fields,
        changes=changes.changes,
    )


async def facts_of_change(
    session: AsyncSession,
    change: TicketChange,
    calendar_ids: Iterable[int] = (),
    needs: FactsNeeds = EVERYTHING,
) -> TicketFacts:
    """The facts of one round of a change: the ticket's columns, the round's ChangeSet, and
    what ``needs`` asks for beyond them."""
    facts, _ = await facts_and_version(session, change, calendar_ids, needs, read_version=False)
    return facts


async def facts_and_version(
    session: AsyncSession,
    change: TicketChange,
    calendar_ids: Iterable[int],
    needs: FactsNeeds,
    *,
    read_version: bool,
) -> tuple[TicketFacts, int | None]:
    """``facts_of_change``, and the trigger set's version read in the same statement when
    ``read_version`` (None otherwise)."""
    changes = change.changes
    return await _load(
        session,
        change.ticket,
        update_type=UpdateType.created if change.created else UpdateType.changed,
        via=change.actor.via,
        actor_role=change.actor.role,
        comment_text=None,
        comment_id=changes.comment_id,
        comment_public=changes.comment_public,
        changes=changes.changes,
        sla_events=sla_events_of(changes.changes),
        open_calendars=await open_calendars(session, calendar_ids, change.now),
        needs=needs,
        read_version=read_version,
    )


def in_session(
    session: AsyncSession, model: type[Model], key: int | None, *attributes: str
) -> Model | None:
    """The ``model`` row ``key`` if the session holds it with ``attributes`` loaded (never
    a lazy load: that would be the query this saves, and cannot run here anyway)."""
    if key is None:
        return None
    found = session.sync_session.identity_map.get(identity_key(model, key))
    if found is None:
        return None
    state = inspect(found)
    if state.deleted or state.detached or any(a in state.unloaded for a in attributes):
        return None
    return found


@cache
def _facts_statement(
    requester: bool, organization: bool, ccs: bool, comment: bool, version: bool
) -> Select[Any] | None:
    """Built once per shape (building it cost more than running it); None: nothing to ask.
    ``version``: the trigger set's version rides along, so a change that reads facts asks
    the database once, not twice (``TriggerReaction``)."""
    parts: list[ColumnElement[Any]] = []
    if version:
        parts.append(CURRENT_VERSION.scalar_subquery().label("trigger_set_version"))
    if organization:
        parts.append(
            select(Organization.tags)
            .where(Organization.id == bindparam("organization_id"))
            .scalar_subquery()
            .label("organization_tags")
        )
    if ccs:
        parts.append(
            select(func.array_agg(TicketCc.user_id))
            .where(TicketCc.ticket_id == bindparam("ticket_id"), TicketCc.kind == CcKind.cc)
            .scalar_subquery()
            .label("cc_ids")
        )
    if comment:
        parts.append(
            select(TicketComment.body)
            .where(TicketComment.id == bindparam("comment_id"))
            .scalar_subquery()
            .label("comment_body")
        )
    if requester:
        columns = (User.tags.label("requester_tags"), User.locale.label("requester_locale"))
        return select(*columns, *parts).where(User.id == bindparam("requester_id"))
    return select(*parts) if parts else None


async def load_facts(
    session: AsyncSession,
    ticket: Ticket,
    *,
    update_type: UpdateType,
    via: str,
    actor_role: str | None,
    comment_text: str | None,
    comment_public: bool,
    comment_id: int | None = None,
    changes: Sequence[Mapping[str, Any]] = (),
    sla_events: Iterable[str] = (),
    open_calendars: Iterable[int] = (),
    needs: FactsNeeds = EVERYTHING,
) -> TicketFacts:
    """The facts of ``ticket`` for a change described by the rest. What is not on the ticket
    row (the requester's and organisation's tags, the locale, the CCs, and the text of
    comment ``comment_id`` when given instead of ``comment_text``) comes from the session
    when it holds it, else from one query, and only as far as ``needs`` asks."""
    facts, _ = await _load(
        session,
        ticket,
        update_type=update_type,
        via=via,
        actor_role=actor_role,
        comment_text=comment_text,
        comment_public=comment_public,
        comment_id=comment_id,
        changes=changes,
        sla_events=sla_events,
        open_calendars=open_calendars,
        needs=needs,
        read_version=False,
    )
    return facts


async def _load(
    session: AsyncSession,
    ticket: Ticket,
    *,
    update_type: UpdateType,
    via: str,
    actor_role: str | None,
    comment_text: str | None,
    comment_public: bool,
    comment_id: int | None,
    changes: Sequence[Mapping[str, Any]],
    sla_events: Iterable[str],
    open_calendars: Iterable[int],
    needs: FactsNeeds,
    read_version: bool,
) -> tuple[TicketFacts, int | None]:
    requester = (
        in_session(session, User, ticket.requester_id, "tags", "locale")
        if needs.requester
        else None
    )
    organization = (
        in_session(session, Organization, ticket.organization_id, "tags")
        if needs.organization
        else None
    )
    comment = None
    if comment_id is not None:
        if needs.comment:
            comment = in_session(session, TicketComment, comment_id, "body")
        else:
            comment_text = ""  # present, and no rule reads its words
    statement = _facts_statement(
        needs.requester and requester is None,
        needs.organization and organization is None and ticket.organization_id is not None,
        needs.ccs,
        needs.comment and comment_id is not None and comment is None,
        read_version,
    )
    row: Mapping[str, Any] = {}
    if statement is not None:
        parameters = {
            "requester_id": ticket.requester_id,
            "organization_id": ticket.organization_id,
            "ticket_id": ticket.id,
            "comment_id": comment_id,
        }
        row = (await session.execute(statement, parameters)).one()._mapping
    if requester is not None:
        row = {**row, "requester_tags": requester.tags, "requester_locale": requester.locale}
    if organization is not None:
        row = {**row, "organization_tags": organization.tags}
    if comment is not None:
        comment_text = comment.body
    elif "comment_body" in row:
        comment_text = row["comment_body"]
    facts = TicketFacts.of(
        update_type=update_type,
        status_id=ticket.status_id,
        status_category=ticket.status_category,
        priority=ticket.priority,
        type=ticket.type,
        via=via,
        group_id=ticket.group_id,
        assignee_id=ticket.assignee_id,
        requester_id=ticket.requester_id,
        organization_id=ticket.organization_id,
        tags=ticket.tags,
        requester_tags=row.get("requester_tags") or (),
        organization_tags=row.get("organization_tags") or (),
        requester_locale=row.get("requester_locale"),
        comment_text=comment_text,
        comment_public=comment_public,
        subject=ticket.subject,
        actor_role=actor_role,
        sla_events=sla_events,
        cc_user_ids=row.get("cc_ids") or (),
        satisfaction=ticket.satisfaction_score,
        custom_fields=ticket.custom_fields,
        open_calendars=open_calendars,
        changes=changes,
    )
    return facts, row.get("trigger_set_version")
