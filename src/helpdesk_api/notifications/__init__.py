"""Notifications: who is told what, rendered from templates into the e-mail outbox.

The public surface, for the code that sends notifications::

    context = await build_context(session, settings, event=NotificationEvent.public_reply,
                                  ticket=ticket, recipient=requester, comment=reply)
    rendered = await render(session, NotificationEvent.public_reply,
                            context.recipient.locale, context)
    # rendered.subject / .text / .html (None: text only) / .locale / .origin

``render`` never fails because of an admin's template (it falls back to the built-in
wording). Templates are Jinja in a metered sandbox (``sandbox.py``); the built-in wording is
under ``defaults/<locale>/``; admins change it through ``/v1/notification-templates``.
"""

from helpdesk_api.notifications.building import (
    build_context,
    comment_html,
    recipient_locale,
    ticket_url,
)
from helpdesk_api.notifications.context import (
    CommentContext,
    NotificationContext,
    RecipientContext,
    TicketContext,
    sample_context,
)
from helpdesk_api.notifications.events import Audience, NotificationEvent
from helpdesk_api.notifications.formatting import format_datetime
from helpdesk_api.notifications.locales import locale_chain
from helpdesk_api.notifications.templates import Rendered, TemplateOrigin, render

__all__ = [
    "Audience",
    "CommentContext",
    "NotificationContext",
    "NotificationEvent",
    "RecipientContext",
    "Rendered",
    "TemplateOrigin",
    "TicketContext",
    "build_context",
    "comment_html",
    "format_datetime",
    "locale_chain",
    "recipient_locale",
    "render",
    "sample_context",
    "ticket_url",
]
