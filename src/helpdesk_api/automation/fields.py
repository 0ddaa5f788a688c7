"""The vocabulary rules speak: the fields a condition can test and their fixed value sets."""

import re
from enum import StrEnum


class Field(StrEnum):
    update_type = "update_type"
    status_id = "status_id"
    status_category = "status_category"
    priority = "priority"
    type = "type"
    via = "via"  # the path of the change: a channel, or one of the service's own writers
    group_id = "group_id"
    assignee_id = "assignee_id"
    requester_id = "requester_id"
    organization_id = "organization_id"
    tags = "tags"
    requester_tags = "requester_tags"
    organization_tags = "organization_tags"
    requester_locale = "requester_locale"
    comment_present = "comment_present"
    comment_public = "comment_public"
    comment_text = "comment_text"
    subject = "subject"
    actor_role = "actor_role"
    sla_event = "sla_event"
    # The requester's rating of the current resolution: good, bad, or none yet.
    satisfaction = "satisfaction"
    # ``is <calendar id>``: the change happens within that business calendar's hours.
    within_business_hours = "within_business_hours"


# What a change does not carry and the trigger reaction reads (the comment's text; the
# requester's and organisation's rows). Every other condition is decided from the change
# and the ticket row alone, so a change no trigger's other conditions admit reads nothing.
LOADED_FIELDS = frozenset(
    {
        Field.comment_text,
        Field.requester_tags,
        Field.organization_tags,
        Field.requester_locale,
        Field.within_business_hours,
    }
)


class Operator(StrEnum):
    is_ = "is"
    is_not = "is_not"
    in_ = "in"
    not_in = "not_in"
    changed = "changed"
    changed_to = "changed_to"
    changed_from = "changed_from"
    not_changed = "not_changed"
    less_than = "less_than"
    greater_than = "greater_than"
    includes_all = "includes_all"
    includes_any = "includes_any"
    not_includes = "not_includes"
    contains_words = "contains_words"
    contains_phrase = "contains_phrase"


class UpdateType(StrEnum):
    created = "created"
    changed = "changed"


# ``<metric>_time.<event>``, the names admins know from SLA policies (first reply *time*).
SLA_METRICS = ("first_reply_time", "next_reply_time", "periodic_update_time", "resolution_time")
SLA_EVENTS = ("warning", "breached")
SLA_EVENT_NAMES = frozenset(f"{m}.{e}" for m in SLA_METRICS for e in SLA_EVENTS)

# BCP 47 as we store it (``en``, ``hu-HU``, ``zh-Hant-TW``): letters and digits in dashed parts.
LOCALE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
