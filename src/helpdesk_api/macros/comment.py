"""The one comment a set of macros writes: each macro's template in the requester's
language, rendered against the ticket as it is before the macros change it (so a preview
and the apply say the same), joined a blank line apart. Its public flag is the last
commenting macro's, as a later macro wins on a field.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.macros.rendering import RenderProblem, first_name, pick_variant, render
from helpdesk_api.macros.schemas import AppliedComment, comment_of
from helpdesk_api.models import Group, Macro, Ticket, User
from helpdesk_api.notifications import Audience, recipient_locale
from helpdesk_api.notifications.building import due_times
from helpdesk_api.statuses.service import statuses_by_id


async def _variables(
    session: AsyncSession, principal: Principal, ticket: Ticket, requester: User, public: bool
) -> dict[str, Any]:
    status = (await statuses_by_id(session, [ticket.status_id]))[ticket.status_id]
    group = await session.get(Group, ticket.group_id) if ticket.group_id is not None else None
    due = await due_times(session, ticket.id)
    return {
        "ticket": {
            "id": ticket.id,
            "subject": ticket.subject,
            # In the words of whoever reads the comment.
            "status": status.customer_label if public else status.agent_label,
            "status_category": ticket.status_category,
            "priority": ticket.priority,
            "type": ticket.type,
            "group_name": group.name if group is not None else None,
            "created_at": ticket.created_at,
            "first_reply_due_at": due.first_reply,
            "resolution_due_at": due.resolution,
            "requester": {
                "id": requester.id,
                "name": requester.name,
                "first_name": first_name(requester.name),
                "locale": requester.locale,
            },
        },
        "agent": {
            "id": principal.user_id,
            "name": principal.name,
            "first_name": first_name(principal.name),
        },
    }


async def render_comment(
    session: AsyncSession, principal: Principal, ticket: Ticket, macros: Sequence[Macro]
) -> AppliedComment | None:
    """Raises 422 at ``macro_ids[i]`` for a macro whose comment does not render here."""
    commenting = [
        (index, macro, comment)
        for index, macro in enumerate(macros)
        if (comment := comment_of(macro.comment)) is not None
    ]
    if not commenting:
        return None
    public = commenting[-1][2].public
    requester = await session.get(User, ticket.requester_id)
    assert requester is not None  # a foreign key
    locale = recipient_locale(requester, ticket, Audience.customer)
    variables = await _variables(session, principal, ticket, requester, public)
    parts: list[str] = []
    used: str | None = None
    for index, macro, comment in commenting:
        tag, source = pick_variant(comment.body_template, comment.translations, locale)
        part = f"comment.translations[{tag}]" if tag else "comment.body_template"
        try:
            text = render(source, variables, locale=locale, time_zone=requester.time_zone)
        except RenderProblem as exc:
            raise InvalidInput(
                f"Macro {macro.id} ({macro.title}): {part} does not render on ticket "
                f"{ticket.id}: {exc}.",
                loc=("body", "macro_ids", index),
            ) from exc
        if not text.strip():
            raise InvalidInput(
                f"Macro {macro.id} ({macro.title}): {part} renders empty on ticket {ticket.id}.",
                loc=("body", "macro_ids", index),
            )
        parts.append(text.strip())
        used = used or tag
    return AppliedComment(body="\n\n".join(parts), public=public, locale=used)
