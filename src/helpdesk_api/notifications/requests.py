"""Notices that rules ask for: who gets them and in what words.

A trigger or an automation does not send mail itself: it puts a ``NoticeRequest`` on the
round's ``ChangeSet.notices``, and the notification stage of that round sends it, after the
SLA stage, so an acknowledgement can tell the due times the change has just set.
"""

from dataclasses import dataclass
from typing import Literal

from helpdesk_api.notifications.events import NotificationEvent

Recipient = Literal["requester", "assignee", "group", "user"]
RULE_NOTICE = "rule_notice"  # outbound_emails.kind of a rule's own wording


@dataclass(frozen=True)
class NoticeRequest:
    recipient: Recipient
    rule: str  # who asked, for the logs ("trigger 12")
    user_id: int | None = None  # recipient "user"
    subject: str | None = None  # the rule's wording (Jinja), unless ``template``
    body: str | None = None
    template: NotificationEvent | None = None  # a notification's own (editable) wording
