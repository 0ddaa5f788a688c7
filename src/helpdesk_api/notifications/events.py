"""The notifications this service sends, and who each one is for."""

from enum import StrEnum


class Audience(StrEnum):
    customer = "customer"  # the requester (and CCs): customer labels, public comments only
    agent = "agent"  # staff: agent labels


class NotificationEvent(StrEnum):
    """What a notification tells. The values are ``outbound_emails.kind`` too."""

    public_reply = "public_reply"
    status_changed = "status_changed"
    acknowledgement = "acknowledgement"
    ticket_assigned = "ticket_assigned"
    ticket_created = "ticket_created"

    @property
    def audience(self) -> Audience:
        return _AUDIENCE[self]

    @property
    def description(self) -> str:
        return _DESCRIPTION[self]


_AUDIENCE = {
    NotificationEvent.public_reply: Audience.customer,
    NotificationEvent.status_changed: Audience.customer,
    NotificationEvent.acknowledgement: Audience.customer,
    NotificationEvent.ticket_assigned: Audience.agent,
    NotificationEvent.ticket_created: Audience.agent,
}

_DESCRIPTION = {
    NotificationEvent.public_reply: "An agent's public reply, to the requester and the CCs. "
    "`comment` is the reply; `actor_name` its author.",
    NotificationEvent.status_changed: "The ticket moved into a status that notifies the "
    "requester. `previous_status` is the label before; `actor_name` who changed it (null: "
    "a rule or a timer); no `comment`. Into a solved status, `satisfaction` holds the "
    "requester's rating links.",
    NotificationEvent.acknowledgement: "The automatic reply to a new e-mail ticket: we got "
    "your request #id. `comment` is the customer's message (the built-in wording does not "
    "repeat it: an auto-reply that echoes its input helps spammers).",
    NotificationEvent.ticket_assigned: "To the agent a ticket was assigned to. `actor_name` "
    "is who assigned it (null: a rule); `comment` the ticket's first message.",
    NotificationEvent.ticket_created: "To the agents of the ticket's group: a new ticket. "
    "`comment` is its first message; `actor_name` who opened it.",
}
