"""How the service is put together, once, for the application and the worker alike: the ticket
pipeline's reactions, database sessions that carry it, and the worker's jobs.

Whatever changes tickets (a request, a worker job, a channel, a rule) gets its session from
``connect``; a session made any other way has no pipeline and refuses to change a ticket.
"""

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from helpdesk_api.auth.throttle import purge_forgotten as purge_login_throttles
from helpdesk_api.automation.reaction import TriggerReaction
from helpdesk_api.automation.sweep import AutomationSweepJob
from helpdesk_api.channels.delivery import ChannelDeliveryJob
from helpdesk_api.channels.replies import relay_replies
from helpdesk_api.core.db import create_engine, create_sessionmaker
from helpdesk_api.core.idempotency import purge_expired_keys
from helpdesk_api.core.settings import Settings, get_settings
from helpdesk_api.links.propagation import propagate_to_incidents
from helpdesk_api.mail.imap import ImapPollJob
from helpdesk_api.mail.sending import OutboxJob
from helpdesk_api.notifications.reactions import Notifier
from helpdesk_api.reports import on_ticket_change as track_metrics
from helpdesk_api.reports import take_backlog_snapshot
from helpdesk_api.routing import route_on_change
from helpdesk_api.sla.tasks import process_due_sla
from helpdesk_api.sla.tracking import on_ticket_change as track_sla
from helpdesk_api.tickets import SESSION_KEY, Stage, StagedReaction, TicketPipeline
from helpdesk_api.webhooks.delivery import DeliveryJob
from helpdesk_api.webhooks.dispatch import dispatch_events
from helpdesk_api.worker.jobs import Job


def ticket_pipeline(settings: Settings) -> TicketPipeline:
    return TicketPipeline(
        [
            # Its process cache of compiled triggers lives as long as this pipeline.
            StagedReaction(Stage.automation, TriggerReaction(settings)),
            StagedReaction(Stage.routing, route_on_change),
            StagedReaction(Stage.sla, track_sla),
            StagedReaction(Stage.propagation, propagate_to_incidents),
            StagedReaction(Stage.notification, Notifier(settings)),
            StagedReaction(Stage.channels, relay_replies),
            StagedReaction(Stage.metrics, track_metrics),
        ]
    )


def connect(
    url: str,
    *,
    settings: Settings | None = None,
    pool_size: int = 10,
    max_overflow: int = 10,
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """``settings`` shape what reactions do (the notifications' links and mail domain); the
    environment's when not given."""
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow)
    pipeline = ticket_pipeline(settings or get_settings())
    return engine, create_sessionmaker(engine, info={SESSION_KEY: pipeline})


def worker_jobs(settings: Settings) -> dict[str, Job]:
    """What `helpdesk-api worker` runs."""
    return {
        "idempotency-purge": purge_expired_keys,
        "login-throttle-purge": purge_login_throttles,
        "webhook-dispatch": dispatch_events,
        "webhook-delivery": DeliveryJob(settings),
        "sla": process_due_sla,
        "automation-sweep": AutomationSweepJob(settings),
        "mail-outbox": OutboxJob(settings),
        "mail-imap": ImapPollJob(settings),
        "channel-delivery": ChannelDeliveryJob(settings),
        "backlog-snapshot": take_backlog_snapshot,
    }
