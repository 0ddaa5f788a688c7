"""The wording a rule writes (notes, replies, notices, webhook payloads), rendered with the
notifications' guarded Jinja environment and the same context its notices get.

A template is checked when the rule is saved by rendering it strictly against the sample
context (every field filled), so a misspelt variable is a 422 then, not a silent blank
later; when it runs it renders leniently against the real ticket.
"""

import json

from helpdesk_api.automation.actions import Action, AddNote, CallWebhook, Notify, PublicReply
from helpdesk_api.notifications.builtin import TemplateSource
from helpdesk_api.notifications.context import NotificationContext, sample_context
from helpdesk_api.notifications.events import NotificationEvent
from helpdesk_api.notifications.templates import TemplateProblem, render_template

# Whose view of the ticket each wording is written in: customers' for what they receive.
_CUSTOMER_SAMPLE = NotificationEvent.status_changed
_AGENT_SAMPLE = NotificationEvent.ticket_assigned


def sample_for(action: Action) -> NotificationEvent:
    if isinstance(action, PublicReply):
        return _CUSTOMER_SAMPLE
    if isinstance(action, Notify) and action.recipient == "requester":
        return _CUSTOMER_SAMPLE
    return _AGENT_SAMPLE


def render_text(
    body: str, context: NotificationContext, *, subject: str = "-", strict: bool = False
) -> tuple[str, str]:
    """(subject, text) of a rule's wording; raises ``TemplateProblem``."""
    rendered_subject, text, _ = render_template(
        TemplateSource(subject=subject, text_body=body, html_body=None),
        context,
        locale=context.recipient.locale,
        strict=strict,
    )
    return rendered_subject, text


def template_problems(action: Action) -> list[tuple[str, str]]:
    """``(attribute, message)`` for each of ``action``'s templates that does not render."""
    context = sample_context(sample_for(action), "en")
    problems: list[tuple[str, str]] = []
    try:
        if isinstance(action, AddNote | PublicReply):
            _, text = render_text(action.body, context, strict=True)
            if not text.strip():
                problems.append(("body", "renders empty"))
        elif isinstance(action, Notify) and action.body is not None:
            subject, text = render_text(
                action.body, context, subject=action.subject or "-", strict=True
            )
            if not subject.strip():
                problems.append(("subject", "renders empty"))
            if not text.strip():
                problems.append(("body", "renders empty"))
        elif isinstance(action, CallWebhook):
            _, payload = render_text(action.payload, context, strict=True)
            try:
                json.loads(payload)
            except ValueError as exc:
                problems.append(("payload", f"does not render to JSON: {exc}"))
    except TemplateProblem as exc:
        attribute = {"subject": "subject"}.get(exc.part, _body_attribute(action))
        where = f"line {exc.line}: " if exc.line else ""
        problems.append((attribute, f"{where}{exc.message}"))
    return problems


def _body_attribute(action: Action) -> str:
    return "payload" if isinstance(action, CallWebhook) else "body"
