"""The one way a ticket changes, whoever changes it: the API, the worker, merges, channels, rules.

A writer applies its changes to a locked ticket, collecting them in a ``ChangeSet``, then calls
``commit_change``. The pipeline writes the audit, runs the reactions in their declared order
(automation, routing, SLA tracking, problem → incident propagation, notifications) and
records the ticket's events, all inside the caller's transaction.

Re-entrancy is explicit. A reaction that changes *the same ticket* writes into
``change.follow_up``: once every reaction has seen the round, the follow-up is audited under
its own actor and runs through the reactions again, until nothing more changes (at most
``MAX_ROUNDS``). A reaction that changes *another* ticket calls ``change.cascade``, which runs
the whole pipeline for that ticket one level deeper (at most ``MAX_DEPTH``). Past either limit
the change is refused with ``ChangeDidNotSettle`` and the transaction rolls back.

The reactions come from ``assembly.ticket_pipeline()``; the application and the worker both
build their sessions with it, and a session without a pipeline refuses to change a ticket.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.actor import Actor
from helpdesk_api.core.errors import Conflict
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.models import Ticket, TicketAudit
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.representation import ticket_data as render_ticket_data

MAX_ROUNDS = 8
MAX_DEPTH = 3
SESSION_KEY = "ticket_pipeline"


class ChangeDidNotSettle(Conflict):
    """Reactions kept changing tickets: a rule loop, most likely."""


@dataclass
class TicketChange:
    """One round of a ticket's change, as each reaction sees it."""

    ticket: Ticket
    changes: ChangeSet  # what this round changed (the writer's changes, or a follow-up)
    actor: Actor
    now: datetime
    created: bool
    depth: int
    pipeline: "TicketPipeline"
    follow_up_actor: Actor | None = None
    follow_up: ChangeSet = field(default_factory=ChangeSet)

    def follow_up_by(self, actor: Actor) -> ChangeSet:
        """Where a reaction records what it changes on this ticket, as ``actor``."""
        if self.follow_up_actor is not None and self.follow_up_actor != actor:
            raise RuntimeError("one follow-up per round: reactions must agree on its actor")
        self.follow_up_actor = actor
        return self.follow_up

    async def cascade(
        self, session: AsyncSession, ticket: Ticket, changes: ChangeSet, actor: Actor
    ) -> None:
        """Run the pipeline for another ticket this change has changed."""
        await self.pipeline.run(session, ticket, changes, actor=actor, now=self.now,
                                depth=self.depth + 1)  # fmt: skip


Reaction = Callable[[AsyncSession, TicketChange], Awaitable[None]]


class Stage(IntEnum):
    """The order reactions run in, whatever order they are given in."""

    automation = 1  # rules first: what they set (priority, group, …) is what SLAs measure
    routing = 2  # an unassigned ticket in a routed group gets an agent, once rules placed it
    sla = 3  # clocks follow the ticket as the writer and the rules left it
    propagation = 4  # incidents receive the problem's settled change
    notification = 5  # mail tells what the ticket became, in the same transaction
    channels = 6  # a reply in a channel's conversation goes back out through it
    metrics = 7  # last: reports measure the round as every other reaction left it


@dataclass(frozen=True)
class StagedReaction:
    stage: Stage
    react: Reaction


class TicketPipeline:
    def __init__(self, reactions: Sequence[StagedReaction]) -> None:
        stages = [r.stage for r in reactions]
        if len(set(stages)) != len(stages):
            raise ValueError("one reaction per stage")
        self.reactions = tuple(sorted(reactions, key=lambda r: r.stage))

    async def run(
        self,
        session: AsyncSession,
        ticket: Ticket,
        changes: ChangeSet,
        *,
        actor: Actor,
        now: datetime,
        created: bool = False,
        depth: int = 0,
    ) -> None:
        if depth > MAX_DEPTH:
            raise ChangeDidNotSettle(
                f"Changing ticket {ticket.id} changed other tickets more than {MAX_DEPTH} "
                "levels deep; check the automation rules for a loop."
            )
        all_changes: list[dict[str, Any]] = []
        round_changes, round_actor, first = changes, actor, True
        for _ in range(MAX_ROUNDS):
            await _write_audit(session, ticket, round_changes, round_actor)
            all_changes.extend(round_changes.changes)
            change = TicketChange(
                ticket=ticket,
                changes=round_changes,
                actor=round_actor,
                now=now,
                created=created and first,
                depth=depth,
                pipeline=self,
            )
            for reaction in self.reactions:
                await reaction.react(session, change)
            if not change.follow_up:
                break
            assert change.follow_up_actor is not None
            ticket.updated_at = now
            await session.flush()
            round_changes, round_actor, first = change.follow_up, change.follow_up_actor, False
        else:
            raise ChangeDidNotSettle(
                f"Ticket {ticket.id} kept changing after {MAX_ROUNDS} rounds of reactions; "
                "check the automation rules for a loop."
            )
        await _record_events(session, ticket, all_changes, actor, created=created)


async def _write_audit(
    session: AsyncSession, ticket: Ticket, changes: ChangeSet, actor: Actor
) -> None:
    await session.execute(
        insert(TicketAudit).values(
            ticket_id=ticket.id,
            actor_id=actor.user_id,
            via=actor.via,
            changes=changes.changes,
            comment_id=changes.comment_id,
        )
    )


async def _record_events(
    session: AsyncSession,
    ticket: Ticket,
    changes: list[dict[str, Any]],
    actor: Actor,
    *,
    created: bool,
) -> None:
    # Rendered after the reactions, so the event carries what they set (SLA due times, …).
    ticket_data = await render_ticket_data(session, ticket)
    common: dict[str, Any] = {"actor_id": actor.user_id, "via": actor.via, "ticket_id": ticket.id}
    if created:
        await record_event(
            session,
            EventType.ticket_created,
            data={"ticket": ticket_data},
            is_public=True,
            **common,
        )
        return
    field_changes = [c for c in changes if c["field"] != "comment"]
    if not field_changes:
        return
    data = {"ticket": ticket_data, "changes": field_changes}
    await record_event(session, EventType.ticket_updated, data=data, **common)
    if any(c["field"] == "status" for c in field_changes):
        await record_event(
            session, EventType.ticket_status_changed, data=data, is_public=True, **common
        )
    if any(c["field"] == "assignee_id" for c in field_changes):
        await record_event(session, EventType.ticket_assigned, data=data, **common)


def pipeline_of(session: AsyncSession) -> TicketPipeline:
    pipeline: TicketPipeline | None = session.info.get(SESSION_KEY)
    if pipeline is None:
        # Changing a ticket without its reactions would silently skip SLA clocks and more.
        raise RuntimeError(
            "this session has no ticket pipeline: build its sessionmaker with "
            "assembly.connect() (the application and the worker both do)"
        )
    return pipeline


async def commit_change(
    session: AsyncSession,
    ticket: Ticket,
    changes: ChangeSet,
    *,
    actor: Actor,
    now: datetime,
    created: bool = False,
) -> None:
    """Audit ``changes`` (already applied to the locked ``ticket``), run the reactions and
    record the events, in the caller's transaction."""
    await pipeline_of(session).run(session, ticket, changes, actor=actor, now=now, created=created)
