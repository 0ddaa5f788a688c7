"""The impact × urgency → priority matrix that admins edit and new tickets are ranked by."""

from itertools import product

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.resource import field_changes
from helpdesk_api.models import Level, Priority, PriorityMatrixCell
from helpdesk_api.statuses.schemas import MatrixCell, PriorityMatrix

COMBINATIONS = list(product(Level, Level))
_ORDER = {combination: n for n, combination in enumerate(COMBINATIONS)}


def cell_field(impact: Level, urgency: Level) -> str:
    """How a cell is named in ``priority_matrix.updated`` changes."""
    return f"impact.{impact.value}.urgency.{urgency.value}"


def _to_matrix(cells: dict[tuple[Level, Level], Priority]) -> PriorityMatrix:
    return PriorityMatrix(
        cells=[
            MatrixCell(impact=impact, urgency=urgency, priority=cells[impact, urgency])
            for impact, urgency in sorted(cells, key=_ORDER.__getitem__)
        ]
    )


async def _load(
    session: AsyncSession, *, for_update: bool = False
) -> dict[tuple[Level, Level], PriorityMatrixCell]:
    statement = select(PriorityMatrixCell)
    if for_update:
        statement = statement.with_for_update()
    rows = (await session.scalars(statement)).all()
    return {(Level(row.impact), Level(row.urgency)): row for row in rows}


async def read_matrix(session: AsyncSession) -> PriorityMatrix:
    rows = await _load(session)
    return _to_matrix({key: Priority(row.priority) for key, row in rows.items()})


def _check_complete(data: PriorityMatrix) -> dict[tuple[Level, Level], Priority]:
    wanted: dict[tuple[Level, Level], Priority] = {}
    first_at: dict[tuple[Level, Level], int] = {}
    for n, cell in enumerate(data.cells):
        key = (cell.impact, cell.urgency)
        if key in first_at:
            raise InvalidInput(
                f"cells[{n}] repeats impact={cell.impact} urgency={cell.urgency}, already given "
                f"at cells[{first_at[key]}]; each combination must appear exactly once.",
                loc=("body", "cells", n),
                type="duplicate_cell",
            )
        first_at[key] = n
        wanted[key] = cell.priority
    missing = [key for key in COMBINATIONS if key not in wanted]
    if missing:
        named = ", ".join(f"impact={i} urgency={u}" for i, u in missing)
        raise InvalidInput(
            f"The matrix must give all {len(COMBINATIONS)} impact × urgency combinations; "
            f"missing: {named}.",
            loc=("body", "cells"),
            type="missing_cell",
        )
    return wanted


async def replace_matrix(
    session: AsyncSession, actor: Principal, data: PriorityMatrix
) -> PriorityMatrix:
    wanted = _check_complete(data)
    current = await _load(session, for_update=True)
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    for (impact, urgency), priority in wanted.items():
        row = current.get((impact, urgency))
        field = cell_field(impact, urgency)
        before[field] = row.priority if row is not None else None
        after[field] = priority.value
        if row is None:
            session.add(PriorityMatrixCell(impact=impact, urgency=urgency, priority=priority))
        elif row.priority != priority:
            row.priority = priority
    changes = field_changes(before, after)
    matrix = _to_matrix(wanted)
    if changes:
        await session.flush()
        await record_event(
            session,
            EventType.priority_matrix_updated,
            actor_id=actor.user_id,
            data={"changes": changes, "matrix": matrix.model_dump(mode="json")["cells"]},
        )
    return matrix
