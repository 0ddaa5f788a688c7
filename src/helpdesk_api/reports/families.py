"""The SQL of a ticket report, one statement per family of metrics that share a time column.

Each statement counts what happened in the range, put in buckets by ``width_bucket`` over the
bucket edges the request computed in its time zone (so Python and SQL cannot disagree about a
daylight-saving day), grouped by the dimension, over the tickets the caller may see.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Float,
    FromClause,
    Select,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
)

from helpdesk_api.access.visibility import ticket_visibility
from helpdesk_api.core.auth import Principal
from helpdesk_api.models import SatisfactionRating, Ticket, TicketMetrics, TicketSlaMetric
from helpdesk_api.reports.request import DURATIONS, STATISTICS, ReportRequest

# Correlated by name: left to itself, the subquery would read its own ``tickets`` (a cross
# join of every ticket with every tag).
_TAGS = select(func.unnest(Ticket.tags).label("tag")).correlate(Ticket).lateral("ticket_tags")
_DIMENSIONS: dict[str, Any] = {
    "channel": Ticket.channel,
    "group": Ticket.group_id,
    "assignee": Ticket.assignee_id,
    "priority": Ticket.priority,
    "organization": Ticket.organization_id,
    "product": Ticket.product_id,
    "locale": Ticket.locale,
    "type": Ticket.type,
    "status": Ticket.status_category,
    "tag": _TAGS.c.tag,
}


@dataclass(frozen=True)
class Family:
    """Metrics counted at one moment of a ticket's life, from one set of tables."""

    time: Any  # the column whose value puts a row in a bucket
    source: FromClause  # joined to tickets
    where: Sequence[ColumnElement[bool]] = ()


def _edges(request: ReportRequest) -> Any:
    edges = [start for start, _ in request.buckets()] + [request.buckets()[-1][1]]
    return cast(literal(edges, ARRAY(DateTime(timezone=True))), ARRAY(DateTime(timezone=True)))


def _conditions(principal: Principal, request: ReportRequest) -> list[ColumnElement[bool]]:
    f = request.filters
    conditions: list[ColumnElement[bool]] = [ticket_visibility(principal)]
    for name in ("group_id", "assignee_id", "organization_id", "product_id", "priority",
                 "channel", "type"):  # fmt: skip
        value = getattr(f, name)
        if value is not None:
            conditions.append(getattr(Ticket, name) == value)
    if f.tag is not None:
        conditions.append(Ticket.tags.contains([f.tag]))
    return conditions


def bucketed(
    principal: Principal,
    request: ReportRequest,
    family: Family,
    aggregates: Sequence[Any],
    *,
    before: bool = False,
) -> Select[Any]:
    """Rows of (bucket number from 1, dimension key, *aggregates) for rows whose time lies in
    the request's [from, to); with ``before``, one bucket 0 of everything earlier."""
    key = _DIMENSIONS[request.group_by] if request.group_by else null()
    source = family.source
    if request.group_by == "tag":
        source = source.join(_TAGS, true())
    # PostgreSQL refuses constants in GROUP BY: only the real expressions group.
    groups = [key] if request.group_by else []
    if before:
        bucket: Any = literal_column("0")
        in_range = [family.time < request.start]
    else:
        bucket = func.width_bucket(family.time, _edges(request))
        in_range = [family.time >= request.start, family.time < request.end]
        groups.insert(0, bucket)
    return (
        select(bucket.label("bucket"), key.label("key"), *aggregates)
        .select_from(source)
        .where(*in_range, *family.where, *_conditions(principal, request))
        .group_by(*groups)
    )


METRICS_JOIN = Ticket.__table__.join(TicketMetrics, TicketMetrics.ticket_id == Ticket.id)
# A merged source was closed by the merge: it left the backlog, but solved nothing.
NOT_MERGED = Ticket.merged_into_id.is_(None)

CREATED = Family(Ticket.created_at, Ticket.__table__)
SOLVED = Family(TicketMetrics.solved_at, METRICS_JOIN, (NOT_MERGED,))
FIRST_REPLY = Family(TicketMetrics.first_reply_at, METRICS_JOIN)
LEFT_BACKLOG = Family(TicketMetrics.left_backlog_at, METRICS_JOIN)
_SLA_DONE = case(
    (TicketSlaMetric.status == "achieved", TicketSlaMetric.achieved_at),
    else_=TicketSlaMetric.breached_at,
)
SLA = Family(
    _SLA_DONE,
    Ticket.__table__.join(TicketSlaMetric, TicketSlaMetric.ticket_id == Ticket.id),
    # A merge fulfils (or breaches) a source's clocks by closing it: no service was given.
    (TicketSlaMetric.status.in_(("achieved", "breached")), NOT_MERGED),
)
CSAT = Family(
    SatisfactionRating.rated_at,
    Ticket.__table__.join(SatisfactionRating, SatisfactionRating.ticket_id == Ticket.id),
    (SatisfactionRating.score.is_not(None),),
)


def duration(name: str) -> Any:
    """``first_reply_time.p90`` → the aggregate over the ticket_metrics column."""
    base, _, statistic = name.partition(".")
    column = getattr(TicketMetrics, DURATIONS[base])
    fraction = STATISTICS[statistic]
    if fraction is None:
        return func.avg(column).label(name)
    return func.percentile_cont(fraction).within_group(column).label(name)


def fraction(condition: ColumnElement[bool], name: str) -> Any:
    hits = func.count().filter(condition)
    return (cast(hits, Float) / func.nullif(func.count(), 0)).label(name)


def solved_aggregates(names: Sequence[str]) -> list[Any]:
    aggregates: list[Any] = [func.count().label("solved")]
    for name in names:
        if name == "fcr_rate":
            aggregates.append(fraction(TicketMetrics.replies_at_solve == 1, name))
        elif name == "reopen_rate":
            aggregates.append(fraction(TicketMetrics.reopens > 0, name))
        elif name.partition(".")[0] in DURATIONS and not name.startswith("first_reply"):
            aggregates.append(duration(name))
    return aggregates


def first_reply_aggregates(names: Sequence[str]) -> list[Any]:
    return [duration(n) for n in names if n.startswith("first_reply_time")]


SLA_AGGREGATES = [fraction(TicketSlaMetric.status == "achieved", "sla_achieved_rate")]
CSAT_AGGREGATES = [fraction(SatisfactionRating.score == "good", "csat_score")]
