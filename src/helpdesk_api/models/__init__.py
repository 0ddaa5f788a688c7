"""Every ORM class, imported here so metadata is complete for Alembic and mappers resolve."""

from helpdesk_api.models.automation import (
    Automation,
    AutomationFiring,
    Trigger,
    TriggerSetVersion,
)
from helpdesk_api.models.base import Base
from helpdesk_api.models.channel import (
    AlertGroup,
    ChannelConversation,
    ChannelDelivery,
    ChannelKind,
    ChannelMessage,
    DeliveryTarget,
    MessagingChannel,
)
from helpdesk_api.models.custom_field import CustomField, CustomFieldType, FieldEntity
from helpdesk_api.models.deflection import DeflectionState, KbDeflection
from helpdesk_api.models.event import Event
from helpdesk_api.models.group import Group, GroupMembership, RoutingMode
from helpdesk_api.models.idempotency import IdempotencyKey
from helpdesk_api.models.kb import (
    ArticleVisibility,
    KbArticle,
    KbAttachment,
    KbCategory,
    KbRevision,
    KbSection,
    KbTranslation,
    KbVote,
    TranslationStatus,
)
from helpdesk_api.models.login_throttle import LoginThrottle
from helpdesk_api.models.macro import Macro, MacroVisibility
from helpdesk_api.models.mail import (
    EmailChannel,
    ImapSecurity,
    InboundEmail,
    InboundSource,
    InboundStatus,
    NotificationTemplate,
    OutboundEmail,
    OutboundStatus,
)
from helpdesk_api.models.merge import CcKind, LinkKind, TicketCc, TicketLink
from helpdesk_api.models.organization import Organization
from helpdesk_api.models.product import Asset, Product
from helpdesk_api.models.report import BacklogSnapshot, TicketMetrics
from helpdesk_api.models.satisfaction import (
    SatisfactionRating,
    SatisfactionReason,
    SatisfactionScore,
)
from helpdesk_api.models.sla import (
    BusinessCalendar,
    SlaMetric,
    SlaMetricStatus,
    SlaPolicy,
    SlaTarget,
    TicketSla,
    TicketSlaMetric,
)
from helpdesk_api.models.status import PriorityMatrixCell, StatusCategory, TicketStatus
from helpdesk_api.models.ticket import (
    Attachment,
    Channel,
    Level,
    Priority,
    PriorityRank,
    TagCount,
    Ticket,
    TicketAudit,
    TicketComment,
    TicketType,
    Via,
)
from helpdesk_api.models.user import (
    ASSIGNABLE_ROLES,
    STAFF_ROLES,
    ApiToken,
    Availability,
    IdentityKind,
    Role,
    TicketAccess,
    User,
    UserIdentity,
)
from helpdesk_api.models.view import View, ViewVisibility
from helpdesk_api.models.webform import WebFormSubmission
from helpdesk_api.models.webhook import Webhook, WebhookAttempt, WebhookDelivery, WorkerCursor

__all__ = [
    "ASSIGNABLE_ROLES",
    "STAFF_ROLES",
    "AlertGroup",
    "ApiToken",
    "ArticleVisibility",
    "Asset",
    "Attachment",
    "Automation",
    "AutomationFiring",
    "Availability",
    "BacklogSnapshot",
    "Base",
    "BusinessCalendar",
    "CcKind",
    "Channel",
    "ChannelConversation",
    "ChannelDelivery",
    "ChannelKind",
    "ChannelMessage",
    "CustomField",
    "CustomFieldType",
    "DeflectionState",
    "DeliveryTarget",
    "EmailChannel",
    "Event",
    "FieldEntity",
    "Group",
    "GroupMembership",
    "IdempotencyKey",
    "IdentityKind",
    "ImapSecurity",
    "InboundEmail",
    "InboundSource",
    "InboundStatus",
    "KbArticle",
    "KbAttachment",
    "KbCategory",
    "KbDeflection",
    "KbRevision",
    "KbSection",
    "KbTranslation",
    "KbVote",
    "Level",
    "LinkKind",
    "LoginThrottle",
    "Macro",
    "MacroVisibility",
    "MessagingChannel",
    "NotificationTemplate",
    "Organization",
    "OutboundEmail",
    "OutboundStatus",
    "Priority",
    "PriorityMatrixCell",
    "PriorityRank",
    "Product",
    "Role",
    "RoutingMode",
    "SatisfactionRating",
    "SatisfactionReason",
    "SatisfactionScore",
    "SlaMetric",
    "SlaMetricStatus",
    "SlaPolicy",
    "SlaTarget",
    "StatusCategory",
    "TagCount",
    "Ticket",
    "TicketAccess",
    "TicketAudit",
    "TicketCc",
    "TicketComment",
    "TicketLink",
    "TicketMetrics",
    "TicketSla",
    "TicketSlaMetric",
    "TicketStatus",
    "TicketType",
    "TranslationStatus",
    "Trigger",
    "TriggerSetVersion",
    "User",
    "UserIdentity",
    "Via",
    "View",
    "ViewVisibility",
    "WebFormSubmission",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WorkerCursor",
]
