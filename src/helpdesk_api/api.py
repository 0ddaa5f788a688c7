"""Assembly: every domain router, ticket hook and worker job, in one place.

The only module that imports routers."""

from fastapi import APIRouter

from helpdesk_api.attachments.router import router as attachments_router
from helpdesk_api.auth.router import router as auth_router
from helpdesk_api.auth.throttle import purge_forgotten as purge_login_throttles
from helpdesk_api.conversations.router import router as conversations_router
from helpdesk_api.core.errors import COMMON_RESPONSES
from helpdesk_api.core.idempotency import purge_expired_keys
from helpdesk_api.core.settings import Settings
from helpdesk_api.events.router import router as events_router
from helpdesk_api.groups.router import router as groups_router
from helpdesk_api.health.router import router as health_router
from helpdesk_api.merging.propagation import propagate_to_incidents
from helpdesk_api.merging.router import router as merging_router
from helpdesk_api.organizations.router import router as organizations_router
from helpdesk_api.sla.router import router as sla_router
from helpdesk_api.sla.tasks import process_due_sla
from helpdesk_api.sla.tracking import on_ticket_change as track_sla
from helpdesk_api.statuses.router import router as statuses_router
from helpdesk_api.tickets import hooks
from helpdesk_api.tickets.router import router as tickets_router
from helpdesk_api.users.router import router as users_router
from helpdesk_api.webhooks.delivery import DeliveryJob
from helpdesk_api.webhooks.dispatch import dispatch_events
from helpdesk_api.webhooks.router import router as webhooks_router
from helpdesk_api.worker.jobs import JOBS

v1_routers = [
    auth_router,
    users_router,
    organizations_router,
    groups_router,
    statuses_router,
    tickets_router,
    conversations_router,
    attachments_router,
    merging_router,
    sla_router,
    events_router,
    webhooks_router,
]


def register_ticket_hooks() -> None:
    """Domains that react to ticket changes inside the same transaction."""
    hooks.register(propagate_to_incidents)
    hooks.register(track_sla)


def register_worker_jobs(settings: Settings) -> None:
    """What `helpdesk-api worker` runs."""
    JOBS["idempotency-purge"] = purge_expired_keys
    JOBS["login-throttle-purge"] = purge_login_throttles
    JOBS["webhook-dispatch"] = dispatch_events
    JOBS["webhook-delivery"] = DeliveryJob(settings)
    JOBS["sla"] = process_due_sla


def build_router() -> APIRouter:
    root = APIRouter()
    root.include_router(health_router)
    for router in v1_routers:
        root.include_router(router, responses=COMMON_RESPONSES)
    return root
