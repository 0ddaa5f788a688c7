"""Routing one ticket: who in its group gets it, written through the ticket's ChangeSet.

``route_ticket`` is what the ``Stage.routing`` reaction, the trigger ``route`` action and
any other writer call. It changes the ticket only through the caller's ``ChangeSet``, so
the assignment is audited and announced (``ticket.assigned``) by the pipeline like any other
change, under the caller's actor; when nobody fits it records ``assignment.failed`` instead.

The steps, each one statement for the whole group:

1. the group's active agents and admins; filtered here by required skills and availability;
2. those left are locked (``FOR NO KEY UPDATE``, in id order) until the transaction ends;
3. their open work and round robin's cursor, read after the lock, so a concurrent router's
   assignments are counted: parallel creates never overshoot ``max_open_per_agent`` nor
   both pick the same "next" agent;
4. the account manager, the language and the mode choose among those below capacity.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.actor import Actor
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.skills import language_skill
from helpdesk_api.models import Availability, Group, RoutingMode, StatusCategory, Ticket
from helpdesk_api.routing import candidates as sql
from helpdesk_api.routing.choice import choose
from helpdesk_api.routing.outcome import FailureReason, RoutingOutcome, SkipReason
from helpdesk_api.tickets import ChangeSet

_NOT_OPEN = (StatusCategory.solved, StatusCategory.closed)


async def routing_group(session: AsyncSession, group_id: int | None) -> Group | None:
    """The group if it exists and is active (from the session's identity map when loaded)."""
    if group_id is None:
        return None
    group = await session.get(Group, group_id)
    return group if group is not None and group.is_active else None


async def route_ticket(
    session: AsyncSession,
    ticket: Ticket,
    changes: ChangeSet,
    *,
    actor: Actor,
    group_id: int | None = None,
) -> RoutingOutcome:
    """Assign the locked, unassigned ``ticket`` to an agent of ``group_id`` (its own group
    when None) by that group's routing, into ``changes``; the ticket moves into the group
    when it was routed there. ``actor`` is who asked (the routing reaction, a trigger): the
    ``assignment.failed`` event names them. Only an unassigned, unsolved ticket is routed,
    and never in a ``manual`` group (``skipped``, nothing recorded)."""
    group_id = group_id if group_id is not None else ticket.group_id
    if ticket.assignee_id is not None:
        return RoutingOutcome(group_id, skipped=SkipReason.already_assigned)
    if ticket.status_category in _NOT_OPEN:
        return RoutingOutcome(group_id, skipped=SkipReason.not_open)
    group = await routing_group(session, group_id)
    if group is None:
        detail = (
            "The ticket has no group to route in."
            if group_id is None
            else f"Group {group_id} does not exist or is inactive."
        )
        return await _failed(session, ticket, actor, group_id, None, FailureReason.no_group, detail)
    mode = RoutingMode(group.routing_mode)
    if mode is RoutingMode.manual:
        return RoutingOutcome(group.id, skipped=SkipReason.manual)
    return await _route_in(session, ticket, changes, group, mode, actor=actor)


async def _route_in(
    session: AsyncSession,
    ticket: Ticket,
    changes: ChangeSet,
    group: Group,
    mode: RoutingMode,
    *,
    actor: Actor,
) -> RoutingOutcome:
    async def fail(reason: FailureReason, detail: str) -> RoutingOutcome:
        return await _failed(session, ticket, actor, group.id, mode, reason, detail)

    members = await sql.group_members(session, group.id)
    if not members:
        return await fail(
            FailureReason.no_members, f"Group {group.id} has no active agent or admin."
        )
    required = frozenset(ticket.required_skills)
    skilled = [m for m in members if required <= m.skills]
    if not skilled:
        return await fail(
            FailureReason.no_skill_match,
            f"No member of group {group.id} has every required skill "
            f"({', '.join(sorted(required))}).",
        )
    respect = group.routing_respect_availability
    available = [m for m in skilled if not respect or m.availability == Availability.online]
    if not available:
        return await fail(
            FailureReason.none_online,
            f"None of the {len(skilled)} member(s) of group {group.id} who could take the "
            "ticket is online.",
        )
    await sql.lock_candidates(session, [m.user_id for m in available])
    fresh = await sql.workload(session, group.id, [m.user_id for m in available])
    # Read again under the lock: one may have gone offline or lost a skill meanwhile.
    fresh = [
        c
        for c in fresh
        if required <= c.skills and (not respect or c.availability == Availability.online)
    ]
    limit = group.routing_max_open_per_agent
    eligible = [c for c in fresh if limit is None or c.open_tickets < limit]
    if not eligible:
        if not fresh:
            return await fail(
                FailureReason.none_online,
                f"The members of group {group.id} who could take the ticket went offline.",
            )
        return await fail(
            FailureReason.all_at_capacity,
            f"Every available member of group {group.id} who could take the ticket has "
            f"{limit} or more open tickets.",
        )
    manager_id, language = None, None
    if ticket.organization_id is not None or group.routing_match_language:
        context = await sql.ticket_context(session, ticket)
        manager_id = context.account_manager_id
        if group.routing_match_language:
            language = language_skill(context.locale)
    chosen, basis = choose(eligible, mode, account_manager_id=manager_id, language_skill=language)
    changes.note(
        "routing",
        None,
        {"group_id": group.id, "mode": mode.value, "basis": basis.value},
    )
    changes.set(ticket, "group_id", group.id)
    changes.set(ticket, "assignee_id", chosen.user_id)
    await sql.mark_routed(session, group.id, chosen.user_id)
    return RoutingOutcome(group.id, assignee_id=chosen.user_id, basis=basis)


async def _failed(
    session: AsyncSession,
    ticket: Ticket,
    actor: Actor,
    group_id: int | None,
    mode: RoutingMode | None,
    reason: FailureReason,
    detail: str,
) -> RoutingOutcome:
    await record_event(
        session,
        EventType.assignment_failed,
        actor_id=actor.user_id,
        via=actor.via,
        ticket_id=ticket.id,
        data={
            "ticket_id": ticket.id,
            "group_id": group_id,
            "mode": mode.value if mode else None,
            "reason": reason.value,
            "required_skills": list(ticket.required_skills),
            "detail": detail,
        },
    )
    return RoutingOutcome(group_id, failure=reason, detail=detail)
