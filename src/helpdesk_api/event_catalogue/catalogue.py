"""The event catalogue: for each event type, what it means and the model of its ``data``.

The list of types is ``core.event_types.EventType`` (core records events and imports no
domain); the payload models name domain read schemas, so they live here. A test checks that
every type has an entry, and the test suite validates every event it records against it.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from helpdesk_api.core.event_types import EventType
from helpdesk_api.event_catalogue import channel_payloads as ch
from helpdesk_api.event_catalogue import kb_payloads as kb
from helpdesk_api.event_catalogue import payloads as p


@dataclass(frozen=True)
class EventSpec:
    description: str
    payload: type[BaseModel]
    # What a customer receives of the event, for the public ones; None: staff only.
    customer_payload: type[BaseModel] | None = None


T = EventType
CATALOGUE: dict[EventType, EventSpec] = {
    T.ticket_created: EventSpec(
        "A ticket was created (with its first comment, told by `comment.created`).",
        p.TicketCreated,
        p.CustomerTicketEvent,
    ),
    T.ticket_updated: EventSpec("Fields of a ticket changed.", p.TicketChanged),
    T.ticket_status_changed: EventSpec(
        "A ticket's status changed (also told as `ticket.updated`).",
        p.TicketChanged,
        p.CustomerTicketEvent,
    ),
    T.ticket_assigned: EventSpec(
        "A ticket's assignee changed (also told as `ticket.updated`).", p.TicketChanged
    ),
    T.assignment_failed: EventSpec(
        "Routing found no agent for an unassigned ticket (on creation, a move into a routed "
        "group, or a trigger's `route`); it stays unassigned. `reason` says why.",
        p.AssignmentFailed,
    ),
    T.ticket_merged: EventSpec("Tickets were merged into the target ticket.", p.TicketMerged),
    T.ticket_linked: EventSpec("Two tickets were linked.", p.TicketLinkChanged),
    T.ticket_unlinked: EventSpec("A link between two tickets was removed.", p.TicketLinkChanged),
    T.comment_created: EventSpec(
        "A comment was added: a public reply or a private note (`public`).",
        p.CommentCreated,
        p.CustomerCommentCreated,
    ),
    T.attachment_created: EventSpec("A file was uploaded.", p.AttachmentCreated),
    T.sla_warning: EventSpec("An SLA target of a ticket is close to breach.", p.SlaAlert),
    T.sla_breached: EventSpec("An SLA target of a ticket was breached.", p.SlaAlert),
    T.user_created: EventSpec("A user was created.", p.UserCreated),
    T.user_updated: EventSpec(
        "A user changed (profile, role, identities, password).", p.UserUpdated
    ),
    T.user_merged: EventSpec(
        "A customer (`source_id`) was folded into another (`user_id`): its identities, "
        "tickets and CCs moved; the source is deactivated and its tokens revoked.",
        p.UserMerged,
    ),
    T.organization_created: EventSpec("An organisation was created.", p.OrganizationCreated),
    T.organization_updated: EventSpec("An organisation changed.", p.OrganizationUpdated),
    T.organization_deleted: EventSpec("An organisation was deleted.", p.OrganizationDeleted),
    T.group_created: EventSpec("A group was created.", p.GroupCreated),
    T.group_updated: EventSpec("A group changed (or was deactivated).", p.GroupUpdated),
    T.group_member_added: EventSpec("A user joined a group.", p.GroupMembershipChanged),
    T.group_member_removed: EventSpec("A user left a group.", p.GroupMembershipChanged),
    T.ticket_status_created: EventSpec("A ticket status was created.", p.TicketStatusCreated),
    T.ticket_status_updated: EventSpec(
        "A ticket status changed (or was deactivated).", p.TicketStatusUpdated
    ),
    T.ticket_status_deleted: EventSpec("A ticket status was deleted.", p.TicketStatusDeleted),
    T.priority_matrix_updated: EventSpec(
        "Cells of the impact × urgency priority matrix changed.", p.PriorityMatrixUpdated
    ),
    T.sla_policy_created: EventSpec("An SLA policy was created.", p.SlaPolicyCreated),
    T.sla_policy_updated: EventSpec(
        "An SLA policy changed (or was deactivated).", p.SlaPolicyUpdated
    ),
    T.business_calendar_created: EventSpec(
        "A business calendar was created.", p.BusinessCalendarCreated
    ),
    T.business_calendar_updated: EventSpec(
        "A business calendar changed.", p.BusinessCalendarUpdated
    ),
    T.business_calendar_deleted: EventSpec(
        "A business calendar was deleted.", p.BusinessCalendarDeleted
    ),
    T.email_channel_created: EventSpec("A mailbox was added.", p.EmailChannelCreated),
    T.email_channel_updated: EventSpec("A mailbox changed.", p.EmailChannelUpdated),
    T.inbound_email_failed: EventSpec(
        "An inbound message could not be processed and was quarantined; an admin may retry "
        "or discard it (`/v1/email-channels/{id}/failed`).",
        p.InboundEmailFailed,
    ),
    T.channel_created: EventSpec("A messaging channel was added.", ch.ChannelCreated),
    T.channel_updated: EventSpec("A messaging channel changed.", ch.ChannelUpdated),
    T.channel_message_received: EventSpec(
        "A message came in through a messaging channel (the API, Telegram) and joined its "
        "sender's conversation or opened a ticket; a replayed external id records nothing.",
        ch.ChannelMessageReceived,
    ),
    T.channel_alert_received: EventSpec(
        "An Alertmanager notification opened its group's ticket, added a private note to it, "
        "or solved it.",
        ch.ChannelAlertReceived,
    ),
    T.channel_delivery_failed: EventSpec(
        "A reply could not be delivered through its channel (refused for good, or retries ran "
        "out); the customer did not receive it.",
        ch.ChannelDeliveryFailed,
    ),
    T.trigger_created: EventSpec("A trigger was created.", p.TriggerCreated),
    T.trigger_updated: EventSpec(
        "A trigger changed (its rule, position or whether it is active).", p.TriggerUpdated
    ),
    T.trigger_deleted: EventSpec("A trigger was deleted.", p.TriggerDeleted),
    T.trigger_loop_stopped: EventSpec(
        "Triggers kept changing one ticket past the pass limit; those that fired were kept, "
        "the rest did not run. Look for two triggers that undo each other.",
        p.TriggerLoopStopped,
    ),
    T.automation_created: EventSpec("A time-based automation was created.", p.AutomationCreated),
    T.automation_updated: EventSpec(
        "An automation changed (its rule, position or whether it is active).",
        p.AutomationUpdated,
    ),
    T.automation_deleted: EventSpec("An automation was deleted.", p.AutomationDeleted),
    T.macro_created: EventSpec("A macro was created.", p.MacroCreated),
    T.macro_updated: EventSpec(
        "A macro changed (its wording, actions, visibility or whether it is active); not "
        "when it is applied.",
        p.MacroUpdated,
    ),
    T.macro_deleted: EventSpec("A macro was deleted.", p.MacroDeleted),
    T.view_created: EventSpec("A saved view was created.", p.ViewCreated),
    T.view_updated: EventSpec(
        "A saved view changed (its conditions, sort, columns, visibility or position).",
        p.ViewUpdated,
    ),
    T.view_deleted: EventSpec("A saved view was deleted.", p.ViewDeleted),
    T.ticket_field_created: EventSpec("A ticket field was defined.", p.TicketFieldCreated),
    T.ticket_field_updated: EventSpec(
        "A ticket field changed (title, options, requirement, visibility, position, or "
        "whether it is active).",
        p.TicketFieldUpdated,
    ),
    T.user_field_created: EventSpec("A user field was defined.", p.UserFieldCreated),
    T.user_field_updated: EventSpec("A user field changed.", p.UserFieldUpdated),
    T.organization_field_created: EventSpec(
        "An organisation field was defined.", p.OrganizationFieldCreated
    ),
    T.organization_field_updated: EventSpec(
        "An organisation field changed.", p.OrganizationFieldUpdated
    ),
    T.product_created: EventSpec("A product was added to the catalogue.", p.ProductCreated),
    T.product_updated: EventSpec(
        "A product changed (name, SKU, category, or whether it is active).", p.ProductUpdated
    ),
    T.asset_created: EventSpec(
        "A customer's asset (a product they own) was recorded.", p.AssetEvent
    ),
    T.asset_updated: EventSpec("A customer's asset changed.", p.AssetUpdated),
    T.asset_deleted: EventSpec("A customer's asset was removed.", p.AssetEvent),
    T.webhook_created: EventSpec("A webhook endpoint was registered.", p.WebhookCreated),
    T.webhook_updated: EventSpec("A webhook endpoint changed.", p.WebhookUpdated),
    T.webhook_secret_rotated: EventSpec("A webhook's signing secret was rotated.", p.WebhookRef),
    T.webhook_disabled: EventSpec(
        "A webhook endpoint was disabled after failed deliveries or a 410.", p.WebhookDisabled
    ),
    T.notification_template_created: EventSpec(
        "An admin wrote the wording of a notification in a locale (it was built-in).",
        p.NotificationTemplateCreated,
    ),
    T.notification_template_updated: EventSpec(
        "An admin changed their wording of a notification in a locale.",
        p.NotificationTemplateUpdated,
    ),
    T.notification_template_deleted: EventSpec(
        "An admin's wording of a notification was removed: the built-in one applies again.",
        p.NotificationTemplateDeleted,
    ),
    T.kb_category_created: EventSpec(
        "A knowledge base category was created.", kb.KbCategoryCreated
    ),
    T.kb_category_updated: EventSpec("A knowledge base category changed.", kb.KbCategoryUpdated),
    T.kb_category_deleted: EventSpec(
        "An empty knowledge base category was deleted.", kb.KbCategoryDeleted
    ),
    T.kb_section_created: EventSpec("A knowledge base section was created.", kb.KbSectionCreated),
    T.kb_section_updated: EventSpec("A knowledge base section changed.", kb.KbSectionUpdated),
    T.kb_section_deleted: EventSpec(
        "An empty knowledge base section was deleted.", kb.KbSectionDeleted
    ),
    T.article_created: EventSpec(
        "A knowledge base article was created (without text yet).", kb.ArticleCreated
    ),
    T.article_updated: EventSpec(
        "An article's fields, or one translation's title, body or status, changed (a "
        "translation written for the first time included).",
        kb.ArticleUpdated,
    ),
    T.article_deleted: EventSpec(
        "An article was deleted with its translations.", kb.ArticleDeleted
    ),
    T.article_published: EventSpec(
        "A translation of an article was published (also told as `article.updated`).",
        kb.ArticlePublished,
    ),
    T.article_archived: EventSpec(
        "A published or draft translation was archived (also told as `article.updated`).",
        kb.ArticleTranslationRef,
    ),
    T.article_translation_deleted: EventSpec(
        "A translation of an article was deleted.", kb.ArticleTranslationRef
    ),
    T.deflection_offered: EventSpec(
        "The knowledge base bot answered a new ticket with articles (its reply is told as "
        "`comment.created`, `via: bot`). Staff only.",
        kb.DeflectionEvent,
    ),
    T.deflection_accepted: EventSpec(
        "The requester said the bot's articles solved it; the ticket's solving, if it was "
        "not solved yet, is told as `ticket.updated` (`via: bot`). Staff only.",
        kb.DeflectionEvent,
    ),
    T.deflection_rejected: EventSpec(
        "The requester said the bot's articles did not solve it. Staff only.",
        kb.DeflectionEvent,
    ),
    T.satisfaction_rated: EventSpec(
        "A solved ticket's requester rated it (the first rating of this resolution); the "
        "ticket's `satisfaction_score` change is told as `ticket.updated`. Staff only.",
        p.SatisfactionRated,
    ),
    T.satisfaction_changed: EventSpec(
        "The requester changed their rating of a solved ticket. Staff only.",
        p.SatisfactionRated,
    ),
    T.webhook_ping: EventSpec(
        "A test message sent to one endpoint on request (`POST /v1/webhooks/{id}/ping`); "
        "not recorded in the event log.",
        p.WebhookRef,
    ),
}


class EventPayloadInvalid(ValueError):
    pass


def validate_payload(event_type: str, data: Any) -> BaseModel:
    """The event's data as its model; raises EventPayloadInvalid for an unknown type or data
    that does not fit."""
    try:
        spec = CATALOGUE[EventType(event_type)]
    except ValueError as exc:
        raise EventPayloadInvalid(f"{event_type!r} is not in the event catalogue") from exc
    try:
        return spec.payload.model_validate(data)
    except ValidationError as exc:
        raise EventPayloadInvalid(f"{event_type} data does not fit its model: {exc}") from exc


class EventTypeRead(BaseModel):
    type: EventType
    description: str
    customer_visible: bool = Field(
        description="Whether customers receive it (their own tickets' public events, in the "
        "stream), in the reduced shape of `customer_payload_schema`."
    )
    payload_schema: dict[str, Any] = Field(
        description="JSON Schema (2020-12) of the event's `data`, self-contained (`$defs`)."
    )
    customer_payload_schema: dict[str, Any] | None = Field(
        description="JSON Schema of the `data` a customer receives; null when staff only."
    )


class EventTypeList(BaseModel):
    data: list[EventTypeRead]


@cache
def event_type_list() -> EventTypeList:
    # Built once: generating the schemas takes milliseconds, the answer never changes.
    return EventTypeList(
        data=[
            EventTypeRead(
                type=event_type,
                description=spec.description,
                customer_visible=spec.customer_payload is not None,
                payload_schema=spec.payload.model_json_schema(by_alias=True),
                customer_payload_schema=spec.customer_payload.model_json_schema(by_alias=True)
                if spec.customer_payload
                else None,
            )
            for event_type, spec in CATALOGUE.items()
        ]
    )
