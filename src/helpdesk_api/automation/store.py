"""Triggers as stored, and the process cache of their compiled form.

Every write to ``triggers`` calls ``bump_version`` in its own transaction: the one row of
``trigger_set_versions`` takes the next value of ``trigger_set_version_seq``. A sequence never
hands out a number twice, even when the transaction that took it rolls back, so one version
number always names one content of the set.

``TriggerCache`` lives as long as its pipeline (one per ``assembly.connect``, so per engine
and database), not per session: it maps the set version to the compiled, immutable
``CompiledTrigger`` tuple. Each ticket change reads the version (one primary-key query); only
a new version reads the triggers and compiles them, once. Reading the version first and the
rows second can only pair a version with *newer* rows (read committed), and the next change
then sees a newer version and compiles again, so the cache never serves an older set than
the version it read.
"""

import logging

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.engine import (
    CompiledTrigger,
    FactsNeeds,
    TriggerRule,
    calendars_named,
    compile_trigger,
    needs_of,
)
from helpdesk_api.models import Trigger, TriggerSetVersion

logger = logging.getLogger(__name__)

VERSION_SEQUENCE = "trigger_set_version_seq"


async def bump_version(session: AsyncSession) -> int:
    """Call in the transaction that writes ``triggers``; returns the new version. The row
    lock also serialises concurrent trigger writers."""
    version: int = (
        await session.execute(
            update(TriggerSetVersion)
            .where(TriggerSetVersion.id == 1)
            .values(version=func.nextval(VERSION_SEQUENCE))
            .returning(TriggerSetVersion.version)
        )
    ).scalar_one()
    return version


# Every ticket change asks: built once (building it cost more than running it).
CURRENT_VERSION = select(TriggerSetVersion.version).where(TriggerSetVersion.id == 1)


async def current_version(session: AsyncSession) -> int:
    version = await session.scalar(CURRENT_VERSION)
    if version is None:
        raise RuntimeError("trigger_set_versions has lost its row: run the migrations")
    return version


async def load_active(
    session: AsyncSession, *, include_inactive: bool = False
) -> tuple[CompiledTrigger, ...]:
    """The active triggers (all, with ``include_inactive``), compiled, in firing order. A
    stored rule that no longer validates (written by an older release) is left out and
    logged, never fatal to every ticket change."""
    statement = select(Trigger.id, Trigger.position, Trigger.title, Trigger.rule)
    if not include_inactive:
        statement = statement.where(Trigger.is_active)
    rows = await session.execute(statement.order_by(Trigger.position, Trigger.id))
    compiled = []
    for row in rows:
        try:
            rule = TriggerRule.model_validate(row.rule)
        except ValidationError:
            logger.exception("trigger %s has a rule that no longer validates; skipped", row.id)
            continue
        compiled.append(
            compile_trigger(id=row.id, position=row.position, title=row.title, rule=rule)
        )
    return tuple(compiled)


class TriggerCache:
    """The compiled active triggers of the last set version this process read."""

    def __init__(self) -> None:
        self.version: int | None = None
        self._triggers: tuple[CompiledTrigger, ...] = ()
        # The business calendars those triggers name, so a change asks only about them.
        self.calendar_ids: frozenset[int] = frozenset()
        # What of a change's facts they read beyond the change and the ticket row.
        self.facts_needs = FactsNeeds()
        self.compilations = 0  # how many times a new version was compiled (for tests, metrics)

    @property
    def cached(self) -> tuple[CompiledTrigger, ...] | None:
        """The set of the version read last, without asking if it is still current; None
        before the first read."""
        return None if self.version is None else self._triggers

    async def triggers(self, session: AsyncSession) -> tuple[CompiledTrigger, ...]:
        return await self.at_version(session, await current_version(session))

    async def at_version(self, session: AsyncSession, version: int) -> tuple[CompiledTrigger, ...]:
        """The set of ``version`` (read in this transaction), compiled once per version."""
        if version != self.version:
            triggers = await load_active(session)
            self.version, self._triggers = version, triggers
            self.calendar_ids = calendars_named(triggers)
            self.facts_needs = needs_of(triggers)
            self.compilations += 1
        return self._triggers
