"""Every domain router, in one place: the only module that imports routers."""

from fastapi import APIRouter

from helpdesk_api.attachments.router import router as attachments_router
from helpdesk_api.auth.router import router as auth_router
from helpdesk_api.automation.automations_router import router as automations_router
from helpdesk_api.automation.router import router as triggers_router
from helpdesk_api.channels.router import router as channels_router
from helpdesk_api.core.errors import COMMON_RESPONSES
from helpdesk_api.customers.router import router as customers_router
from helpdesk_api.event_catalogue.router import router as event_catalogue_router
from helpdesk_api.events.router import router as events_router
from helpdesk_api.fields.router import router as fields_router
from helpdesk_api.groups.router import router as groups_router
from helpdesk_api.health.router import router as health_router
from helpdesk_api.imports.router import router as imports_router
from helpdesk_api.kb.attachments_router import router as kb_attachments_router
from helpdesk_api.kb.deflections_router import router as kb_deflections_router
from helpdesk_api.kb.public_router import router as public_kb_router
from helpdesk_api.kb.router import router as kb_router
from helpdesk_api.kb.translations_router import router as kb_translations_router
from helpdesk_api.links.router import router as links_router
from helpdesk_api.macros.router import router as macros_router
from helpdesk_api.mail.channels_router import router as email_channels_router
from helpdesk_api.mail.router import router as mail_router
from helpdesk_api.merging.router import router as merging_router
from helpdesk_api.metrics.router import router as metrics_router
from helpdesk_api.notifications.router import router as notification_templates_router
from helpdesk_api.organizations.router import router as organizations_router
from helpdesk_api.products.router import router as products_router
from helpdesk_api.reports.exports_router import router as exports_router
from helpdesk_api.reports.router import router as reports_router
from helpdesk_api.routing.router import router as routing_router
from helpdesk_api.satisfaction.router import router as satisfaction_router
from helpdesk_api.sla.router import router as sla_router
from helpdesk_api.statuses.router import router as statuses_router
from helpdesk_api.tickets.ccs_router import router as ccs_router
from helpdesk_api.tickets.comments_router import router as comments_router
from helpdesk_api.tickets.router import router as tickets_router
from helpdesk_api.users.router import router as users_router
from helpdesk_api.views.router import router as views_router
from helpdesk_api.webform.router import router as webform_router
from helpdesk_api.webhooks.router import router as webhooks_router

v1_routers = [
    auth_router,
    users_router,
    organizations_router,
    groups_router,
    routing_router,
    statuses_router,
    fields_router,
    tickets_router,
    comments_router,
    ccs_router,
    attachments_router,
    merging_router,
    links_router,
    sla_router,
    triggers_router,
    automations_router,
    macros_router,
    views_router,
    event_catalogue_router,
    events_router,
    webhooks_router,
    mail_router,
    email_channels_router,
    channels_router,
    notification_templates_router,
    kb_router,
    kb_translations_router,
    kb_deflections_router,
    kb_attachments_router,
    public_kb_router,
    satisfaction_router,
    customers_router,
    webform_router,
    imports_router,
    products_router,
    reports_router,
    exports_router,
]


def build_router() -> APIRouter:
    root = APIRouter()
    root.include_router(health_router)
    root.include_router(metrics_router)
    for router in v1_routers:
        root.include_router(router, responses=COMMON_RESPONSES)
    return root
