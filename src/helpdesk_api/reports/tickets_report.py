"""``GET /v1/reports/tickets``: runs the statements the requested metrics need and lays their
rows out per bucket and dimension value."""

import csv
import io
from collections import defaultdict
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.reports import families as f
from helpdesk_api.reports.report_schemas import ReportRow, TicketReport
from helpdesk_api.reports.request import COUNTS, DURATIONS, ReportRequest

Cells = dict[tuple[int, Any], dict[str, Any]]
_SOLVED_RATES = ("solved", "fcr_rate", "reopen_rate")


def _needs_solved(name: str) -> bool:
    base = name.partition(".")[0]
    return name in _SOLVED_RATES or (base in DURATIONS and not base.startswith("first_reply"))


async def _collect(
    session: AsyncSession, statement: Any, cells: Cells, names: tuple[str, ...]
) -> None:
    result = await session.execute(statement)
    columns = set(result.keys())
    present = [name for name in names if name in columns]
    for row in result.mappings():
        cell = cells[(row["bucket"], row["key"])]
        for name in present:
            cell[name] = row[name]


async def _counts(
    session: AsyncSession,
    principal: Principal,
    request: ReportRequest,
    family: f.Family,
    *,
    before: bool = False,
) -> dict[tuple[int, Any], int]:
    statement = f.bucketed(principal, request, family, [func.count().label("n")], before=before)
    rows = (await session.execute(statement)).all()
    return {(bucket, key): n for bucket, key, n in rows}


async def _backlog(
    session: AsyncSession,
    principal: Principal,
    request: ReportRequest,
    cells: Cells,
    created: dict[tuple[int, Any], int],
) -> None:
    """Open at each bucket's end = open at ``from`` + created − left since, per key: four
    range counts instead of one scan per bucket. A ticket counts as open from its creation
    until it was last solved or closed (a reopened ticket is open again)."""
    left = await _counts(session, principal, request, f.LEFT_BACKLOG)
    created_before = await _counts(session, principal, request, f.CREATED, before=True)
    left_before = await _counts(session, principal, request, f.LEFT_BACKLOG, before=True)
    keys = {k for _, k in (*created, *left, *created_before, *left_before)}
    for key in keys:
        running = created_before.get((0, key), 0) - left_before.get((0, key), 0)
        for bucket in range(1, len(request.buckets()) + 1):
            running += created.get((bucket, key), 0) - left.get((bucket, key), 0)
            if running or (bucket, key) in cells:
                cells[(bucket, key)]["backlog"] = running


async def ticket_report(
    session: AsyncSession, principal: Principal, request: ReportRequest
) -> TicketReport:
    names = request.metrics
    cells: Cells = defaultdict(dict)
    created: dict[tuple[int, Any], int] = {}
    if "created" in names or "backlog" in names:
        created = await _counts(session, principal, request, f.CREATED)
    if "created" in names:
        for cell_key, n in created.items():
            cells[cell_key]["created"] = n
    if any(_needs_solved(n) for n in names):
        aggregates = f.solved_aggregates(names)
        await _collect(session, f.bucketed(principal, request, f.SOLVED, aggregates),
                       cells, ("solved", *names))  # fmt: skip
    if any(n.startswith("first_reply_time") for n in names):
        aggregates = f.first_reply_aggregates(names)
        statement = f.bucketed(principal, request, f.FIRST_REPLY, aggregates)
        await _collect(session, statement, cells, names)
    if "sla_achieved_rate" in names:
        statement = f.bucketed(principal, request, f.SLA, f.SLA_AGGREGATES)
        await _collect(session, statement, cells, names)
    if "csat_score" in names:
        statement = f.bucketed(principal, request, f.CSAT, f.CSAT_AGGREGATES)
        await _collect(session, statement, cells, names)
    if "backlog" in names:
        await _backlog(session, principal, request, cells, created)
    return TicketReport(
        metrics=list(names),
        group_by=request.group_by,
        interval=request.interval,
        tz=request.tz.key,
        from_=request.start,
        to=request.end,
        data=_rows(request, cells),
    )


def _value(name: str, cell: dict[str, Any]) -> int | float | None:
    value = cell.get(name)
    if value is None:
        return 0 if name in COUNTS else None
    return value if type(value) is int else round(value, 4)


def _rows(request: ReportRequest, cells: Cells) -> list[ReportRow]:
    buckets = request.buckets()
    rows: list[ReportRow] = []
    if request.group_by is None:
        wanted = [(b, None) for b in range(1, len(buckets) + 1)]
    else:
        wanted = sorted((k for k, cell in cells.items() if cell), key=lambda k: (k[0], str(k[1])))
    for bucket, key in wanted:
        cell = cells.get((bucket, key), {})
        start, end = buckets[bucket - 1]
        # Built from values of our own making: validating tens of thousands of rows again
        # would cost more than the SQL (bench/reports.py).
        rows.append(
            ReportRow.model_construct(
                start=start,
                end=end,
                group=None if key is None else str(key),
                values={name: _value(name, cell) for name in request.metrics},
            )
        )
    return rows


def _cell_text(value: str) -> str:
    # A tag like "=HYPERLINK(…)" must not become a formula in the spreadsheet that opens it.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def as_csv(report: TicketReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["start", "end", "group", *report.metrics])
    for row in report.data:
        writer.writerow(
            [
                row.start.isoformat().replace("+00:00", "Z"),
                row.end.isoformat().replace("+00:00", "Z"),
                "" if row.group is None else _cell_text(row.group),
                *("" if row.values[m] is None else row.values[m] for m in report.metrics),
            ]
        )
    return out.getvalue()
