"""Every event type the service records, as one enum.

Here, not in the ``events`` domain, because ``record_event`` takes it and core imports no
domain; the payload model of each type lives in ``event_catalogue/catalogue.py``.
"""

from enum import StrEnum


class EventType(StrEnum):
    ticket_created = "ticket.created"
    ticket_updated = "ticket.updated"
    ticket_status_changed = "ticket.status_changed"
    ticket_assigned = "ticket.assigned"
    assignment_failed = "assignment.failed"
    ticket_merged = "ticket.merged"
    ticket_linked = "ticket.linked"
    ticket_unlinked = "ticket.unlinked"
    comment_created = "comment.created"
    attachment_created = "attachment.created"
    sla_warning = "sla.warning"
    sla_breached = "sla.breached"
    user_created = "user.created"
    user_updated = "user.updated"
    organization_created = "organization.created"
    organization_updated = "organization.updated"
    organization_deleted = "organization.deleted"
    group_created = "group.created"
    group_updated = "group.updated"
    group_member_added = "group.member_added"
    group_member_removed = "group.member_removed"
    ticket_status_created = "ticket_status.created"
    ticket_status_updated = "ticket_status.updated"
    ticket_status_deleted = "ticket_status.deleted"
    priority_matrix_updated = "priority_matrix.updated"
    sla_policy_created = "sla_policy.created"
    sla_policy_updated = "sla_policy.updated"
    business_calendar_created = "business_calendar.created"
    business_calendar_updated = "business_calendar.updated"
    business_calendar_deleted = "business_calendar.deleted"
    email_channel_created = "email_channel.created"
    email_channel_updated = "email_channel.updated"
    inbound_email_failed = "inbound_email.failed"
    webhook_created = "webhook.created"
    webhook_updated = "webhook.updated"
    webhook_secret_rotated = "webhook.secret_rotated"
    webhook_disabled = "webhook.disabled"
    notification_template_created = "notification_template.created"
    notification_template_updated = "notification_template.updated"
    notification_template_deleted = "notification_template.deleted"
    trigger_loop_stopped = "trigger.loop_stopped"
    # Sent to one endpoint on request, never recorded in the event log.
    webhook_ping = "webhook.ping"
