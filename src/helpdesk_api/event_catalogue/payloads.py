"""The ``data`` of each event type, as Pydantic models.

Resources appear in the shape staff read them from the API (``TicketRead``, ``CommentRead``,
…), so an integrator parses a webhook with the same model as a GET. Every ``*.updated``
event says what changed as ``changes: [{field, from, to}]``.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from helpdesk_api.attachments.schemas import AttachmentRead
from helpdesk_api.automation.automations_schemas import AutomationRead
from helpdesk_api.automation.schemas import TriggerRead
from helpdesk_api.fields.schemas import CustomFieldRead
from helpdesk_api.groups.schemas import GroupRead
from helpdesk_api.macros.schemas import MacroRead
from helpdesk_api.mail.channel_schemas import EmailChannelRead, InboundEmailRead
from helpdesk_api.models import CcKind, LinkKind, RoutingMode, SlaMetric, StatusCategory
from helpdesk_api.notifications.schemas import NotificationTemplateRead
from helpdesk_api.organizations.schemas import OrganizationRead
from helpdesk_api.products.schemas import AssetRead, ProductRead
from helpdesk_api.routing import FailureReason
from helpdesk_api.satisfaction.schemas import RatingRead
from helpdesk_api.sla.schemas import CalendarRead, PolicyRead
from helpdesk_api.statuses.schemas import MatrixCell, StatusRead
from helpdesk_api.tickets.comment_schemas import CommentRead
from helpdesk_api.tickets.schemas import TicketRead
from helpdesk_api.users.schemas import UserRead
from helpdesk_api.views.schemas import ViewRead
from helpdesk_api.webhooks.schemas import WebhookRead


def _open_for_readers(schema: dict[str, Any]) -> None:
    # Published schemas stay open: payloads may gain fields, and receivers should ignore them.
    schema.pop("additionalProperties", None)


class Payload(BaseModel):
    # A field the model does not name is drift between emitter and catalogue: the test suite's
    # check of every recorded event refuses it.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_open_for_readers)


class Change(Payload):
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_extra=_open_for_readers
    )

    field: str = Field(description="The field that changed (a dotted path for nested ones).")
    from_: Any = Field(
        alias="from", description="The value before; null when redacted (notes, passwords)."
    )
    to: Any = Field(description="The value after; null when redacted.")


Changes = list[Change]


# Tickets and their conversation


class TicketCreated(Payload):
    ticket: TicketRead


class TicketChanged(Payload):
    """``ticket.updated``, and with it ``ticket.status_changed`` / ``ticket.assigned`` when
    the status or assignee is among the changes: the same data each time."""

    ticket: TicketRead
    changes: Changes


class CcAdded(Payload):
    user_id: int
    kind: CcKind


class AssignmentFailed(Payload):
    """Routing found no agent: the ticket stays unassigned (in its group's queue)."""

    ticket_id: int
    group_id: int | None = Field(description="The group routing tried; null: none to try.")
    mode: RoutingMode | None = Field(description="The group's routing mode, when it has one.")
    reason: FailureReason = Field(
        description="The first filter that left nobody: `no_group` (no active group), "
        "`no_members` (no active agent or admin in it), `no_skill_match` (nobody has every "
        "required skill), `none_online` (the skilled ones are away or offline), "
        "`all_at_capacity` (the available ones are at `max_open_per_agent`)."
    )
    required_skills: list[str]
    detail: str = Field(description="The same, in words, for people.")


class TicketMerged(Payload):
    target_id: int
    source_ids: list[int]
    copied_comment_ids: list[int]
    ccs_added: list[CcAdded]


class LinkData(Payload):
    id: int
    ticket_id: int
    linked_ticket_id: int
    kind: LinkKind


class TicketLinkChanged(Payload):
    link: LinkData


class SatisfactionRated(Payload):
    rating: RatingRead
    reopened: bool = Field(
        description="The bad rating reopened the ticket (setting `satisfaction_bad_reopens`)."
    )


class CommentCreated(Payload):
    comment: CommentRead
    public: bool


class AttachmentCreated(Payload):
    attachment: AttachmentRead


class TriggerCreated(Payload):
    trigger: TriggerRead


class TriggerUpdated(Payload):
    trigger_id: int
    changes: Changes


class TriggerDeleted(Payload):
    trigger: TriggerRead


class AutomationCreated(Payload):
    automation: AutomationRead


class AutomationUpdated(Payload):
    automation_id: int
    changes: Changes


class AutomationDeleted(Payload):
    automation: AutomationRead


class MacroCreated(Payload):
    macro: MacroRead


class MacroUpdated(Payload):
    macro_id: int
    changes: Changes


class MacroDeleted(Payload):
    macro: MacroRead


class ViewCreated(Payload):
    view: ViewRead


class ViewUpdated(Payload):
    view_id: int
    changes: Changes


class ViewDeleted(Payload):
    view: ViewRead


class TicketFieldCreated(Payload):
    ticket_field: CustomFieldRead


class TicketFieldUpdated(Payload):
    ticket_field_id: int
    changes: Changes


class UserFieldCreated(Payload):
    user_field: CustomFieldRead


class UserFieldUpdated(Payload):
    user_field_id: int
    changes: Changes


class OrganizationFieldCreated(Payload):
    organization_field: CustomFieldRead


class OrganizationFieldUpdated(Payload):
    organization_field_id: int
    changes: Changes


class ProductCreated(Payload):
    product: ProductRead


class ProductUpdated(Payload):
    product_id: int
    changes: Changes


class AssetEvent(Payload):
    asset: AssetRead


class AssetUpdated(Payload):
    asset_id: int
    user_id: int = Field(description="The customer who owns the asset.")
    changes: Changes


class FiredTriggerRef(Payload):
    id: int
    title: str


class TriggerLoopStopped(Payload):
    """Triggers kept changing a ticket: the engine stopped after ``passes`` walks down the
    list and kept what had fired; the rest of the change committed."""

    ticket_id: int
    passes: int
    fired: list[FiredTriggerRef]


class SlaAlert(Payload):
    ticket_id: int
    metric: SlaMetric
    cycle: int
    policy_id: int | None
    target_minutes: int
    business_hours: bool
    started_at: datetime
    warning_at: datetime | None
    breach_at: datetime | None


# What a customer receives of their own tickets' public events: nothing staff-only.


class CustomerTicketEvent(Payload):
    ticket_id: int | None
    status_category: StatusCategory | None


class CustomerCommentCreated(Payload):
    comment: CommentRead
    public: Literal[True]


# Admin resources


class UserCreated(Payload):
    user: UserRead


class UserUpdated(Payload):
    user_id: int
    changes: Changes


class UserMerged(Payload):
    user_id: int = Field(description="The customer that remains.")
    source_id: int = Field(description="The customer folded into it, now inactive.")
    identity_ids: list[int] = Field(description="The identities that moved.")
    ticket_ids: list[int] = Field(description="The tickets whose requester changed.")


class OrganizationCreated(Payload):
    organization: OrganizationRead


class OrganizationUpdated(Payload):
    organization_id: int
    changes: Changes


class OrganizationDeleted(Payload):
    organization_id: int
    name: str


class GroupCreated(Payload):
    group: GroupRead


class GroupUpdated(Payload):
    group_id: int
    changes: Changes


class GroupMembershipChanged(Payload):
    group_id: int
    user_id: int


class TicketStatusCreated(Payload):
    ticket_status: StatusRead


class TicketStatusUpdated(Payload):
    ticket_status_id: int
    changes: Changes
    reason: str | None = Field(
        default=None, description="Why, when the service made the change by itself."
    )


class TicketStatusDeleted(Payload):
    ticket_status: StatusRead


class PriorityMatrixUpdated(Payload):
    changes: Changes = Field(description="One per cell, `field` `impact.<i>.urgency.<u>`.")
    matrix: list[MatrixCell]


class SlaPolicyCreated(Payload):
    sla_policy: PolicyRead


class SlaPolicyUpdated(Payload):
    sla_policy_id: int
    changes: Changes
    sla_policy: PolicyRead


class BusinessCalendarCreated(Payload):
    business_calendar: CalendarRead


class BusinessCalendarUpdated(Payload):
    business_calendar_id: int
    changes: Changes
    business_calendar: CalendarRead


class BusinessCalendarDeleted(Payload):
    business_calendar_id: int


class EmailChannelCreated(Payload):
    email_channel: EmailChannelRead


class EmailChannelUpdated(Payload):
    email_channel_id: int
    changes: Changes
    email_channel: EmailChannelRead


class InboundEmailFailed(Payload):
    inbound_email: InboundEmailRead


class WebhookCreated(Payload):
    webhook: WebhookRead


class WebhookUpdated(Payload):
    webhook_id: int
    changes: Changes
    webhook: WebhookRead


class WebhookRef(Payload):
    webhook_id: int


class WebhookDisabled(Payload):
    webhook_id: int
    reason: str


class NotificationTemplateCreated(Payload):
    notification_template: NotificationTemplateRead


class NotificationTemplateUpdated(Payload):
    event: str
    locale: str
    changes: Changes
    notification_template: NotificationTemplateRead


class NotificationTemplateDeleted(Payload):
    notification_template: NotificationTemplateRead = Field(
        description="The admin's wording that was removed."
    )
