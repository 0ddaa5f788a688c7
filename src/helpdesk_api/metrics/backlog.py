"""How far the workers are behind, read from the database at scrape time.

The worker's own counters reach ``/metrics`` only when it shares a host and
``PROMETHEUS_MULTIPROC_DIR`` with the API; its backlog is in the database wherever it runs.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.models import OutboundEmail, TicketSlaMetric, Webhook, WebhookDelivery

logger = logging.getLogger("helpdesk_api.metrics")

_DUE_DELIVERIES = (
    select(
        func.count(),
        func.coalesce(extract("epoch", func.now() - func.min(WebhookDelivery.next_attempt_at)), 0),
    )
    .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
    .where(
        WebhookDelivery.status.in_(("pending", "delivering")),
        WebhookDelivery.next_attempt_at <= func.now(),
        # A live lease is a delivery under way, not one waiting.
        or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < func.now()),
        Webhook.is_active,
    )
)
# Mail waits here too while no relay is configured (smtp_host unset): it is still undelivered.
_DUE_MAIL = select(
    func.count(),
    func.coalesce(extract("epoch", func.now() - func.min(OutboundEmail.next_attempt_at)), 0),
).where(
    OutboundEmail.status.in_(("pending", "sending")),
    OutboundEmail.next_attempt_at <= func.now(),
    or_(OutboundEmail.claimed_until.is_(None), OutboundEmail.claimed_until < func.now()),
)
_DUE_SLA = select(
    func.count(),
    func.coalesce(extract("epoch", func.now() - func.min(TicketSlaMetric.due_at)), 0),
).where(TicketSlaMetric.due_at.is_not(None), TicketSlaMetric.due_at <= func.now())


@dataclass(frozen=True, eq=False)  # a registry keys its collectors by identity
class Backlog(Collector):
    """A prometheus collector of what was read; ``up`` is 0 when the database did not answer."""

    up: bool
    jobs: dict[str, tuple[int, float]]

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "helpdesk_worker_backlog_up", "1 when the backlog below could be read."
        )
        up.add_metric([], 1.0 if self.up else 0.0)
        due = GaugeMetricFamily(
            "helpdesk_worker_due_items", "Work the worker should have done by now.", labels=["job"]
        )
        lag = GaugeMetricFamily(
            "helpdesk_worker_lag_seconds",
            "How long the oldest item due has waited (0 when nothing is due).",
            labels=["job"],
        )
        for job, (count, seconds) in self.jobs.items():
            due.add_metric([job], float(count))
            lag.add_metric([job], seconds)
        return [up, due, lag]


async def read_backlog(sessionmaker: async_sessionmaker[AsyncSession]) -> Backlog:
    try:
        async with sessionmaker() as session:
            jobs: dict[str, tuple[int, float]] = {}
            for job, statement in (
                ("webhook-delivery", _DUE_DELIVERIES),
                ("sla", _DUE_SLA),
                ("mail-outbox", _DUE_MAIL),
            ):
                count, seconds = (await session.execute(statement)).one()
                jobs[job] = (int(count), max(float(seconds), 0.0))
    except Exception:
        # Metrics matter most while the database is in trouble: the rest is still served.
        logger.warning("metrics: the worker backlog could not be read", exc_info=True)
        return Backlog(up=False, jobs={})
    return Backlog(up=True, jobs=jobs)
