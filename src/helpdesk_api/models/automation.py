"""Triggers: admin-written rules the ticket pipeline runs at ``Stage.automation``.

``rule`` holds a validated ``automation.engine.TriggerRule``, dumped to JSON (models import no
domain, so it is validated by whoever writes it). Every write to ``triggers`` bumps the one
row of ``trigger_set_versions`` in the same transaction (``automation.store.bump_version``), so a
process can cache the compiled set under that number and check it with one cheap query.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, func, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin


class Trigger(IdMixin, Base):
    __tablename__ = "triggers"
    __table_args__ = (
        # The pipeline's one read per set version: active triggers in firing order.
        Index("ix_triggers_position_id", "position", "id", postgresql_where="is_active"),
    )

    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    rule: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The last action that could not be applied (a deleted group, an inactive agent).
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class TriggerSetVersion(Base):
    """One row: the version of the whole trigger set, set to the next value of
    ``trigger_set_version_seq`` with every trigger change (never reused, even when the
    transaction that took it rolls back)."""

    __tablename__ = "trigger_set_versions"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class Automation(IdMixin, Base):
    """A time-based rule: the worker's ``automation-sweep`` job finds the tickets whose time
    conditions hold (one indexed query per rule) and applies the actions to each, at most
    once per ticket per matching period (``AutomationFiring``).

    ``rule`` holds a validated ``automation.timing.AutomationRule`` dumped to JSON: its
    conditions (time conditions beside the triggers' ticket conditions) and its actions.
    """

    __tablename__ = "automations"
    __table_args__ = (
        Index("ix_automations_position_id", "position", "id", postgresql_where="is_active"),
    )

    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    rule: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The last action that could not be applied, or the error that stopped the rule.
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class AutomationFiring(Base):
    """That an automation acted on a ticket in one matching period. ``period_key`` is the
    ticket's timestamp the rule measures from (``status_changed_at`` for "pending for 5
    days", ``updated_at`` for "not updated for a day", …) when it fired: the same period
    cannot fire twice, and once the ticket re-enters the state it is a new period."""

    __tablename__ = "automation_firings"

    automation_id: Mapped[int] = mapped_column(
        ForeignKey("automations.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    period_key: Mapped[datetime] = mapped_column(primary_key=True)
    fired_at: Mapped[datetime]
