"""Creating and changing tickets. Never commits: the request path does."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.permissions import (
    Relation,
    TicketAction,
    allows,
    refusal,
    require,
)
from helpdesk_api.access.visibility import visible_tickets
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from helpdesk_api.core.tags import normalize_tags
from helpdesk_api.models import (
    Channel,
    Level,
    Priority,
    StatusCategory,
    Ticket,
    TicketComment,
    TicketType,
    Via,
)
from helpdesk_api.statuses.service import default_status, get_usable_status, priority_from_matrix
from helpdesk_api.tickets import custom_values, products, references
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.comment_schemas import CommentCreate
from helpdesk_api.tickets.comments import NewComment, add_comment, relayed_author
from helpdesk_api.tickets.lifecycle import ensure_not_closed, set_priority, set_status
from helpdesk_api.tickets.opening import TicketDraft, open_ticket
from helpdesk_api.tickets.pipeline import commit_change
from helpdesk_api.tickets.representation import (
    EXPECTED_FIRST_REPLY_AT,
    remember_expected_first_reply,
)
from helpdesk_api.tickets.requesters import resolve_requester
from helpdesk_api.tickets.schemas import TicketCreate, TicketUpdate
from helpdesk_api.tickets.tagging import adjust_tag_counts

# Fields a customer may not set: they are how the support team organises its work.
STAFF_ONLY_ON_CREATE = (
    "assignee_id", "group_id", "status_id", "priority", "impact", "urgency", "tags",
    "external_id", "due_at", "requester", "required_skills", "product_id", "asset_id",
)  # fmt: skip


async def get_visible_ticket(
    session: AsyncSession, principal: Principal, ticket_id: int, *, for_update: bool = False
) -> Ticket:
    statement = (
        visible_tickets(principal)
        .add_columns(EXPECTED_FIRST_REPLY_AT)
        .where(Ticket.id == ticket_id)
    )
    if for_update:
        statement = statement.with_for_update(of=Ticket)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise NotFound(f"Ticket {ticket_id} does not exist.")
    ticket: Ticket = row.Ticket
    remember_expected_first_reply(session, ticket.id, row.expected_first_reply_at)
    return ticket


def _check_due_at(ticket_type: str | None, due_at: datetime | None) -> None:
    if due_at is not None and ticket_type != TicketType.task:
        raise InvalidInput("Only tasks have a due date: set type to task.", loc=("body", "due_at"))


async def _ensure_external_id_free(
    session: AsyncSession, external_id: str | None, ticket_id: int | None = None
) -> None:
    if external_id is None:
        return
    owner = await session.scalar(select(Ticket.id).where(Ticket.external_id == external_id))
    if owner is not None and owner != ticket_id:
        raise Conflict(f"external_id {external_id!r} already names ticket {owner}.")


async def _derived_priority(session: AsyncSession, impact: str | None, urgency: str | None) -> str:
    if impact is None or urgency is None:
        return Priority.normal
    return await priority_from_matrix(session, Level(impact), Level(urgency))


async def create_ticket(
    session: AsyncSession, principal: Principal, data: TicketCreate, *, now: datetime
) -> Ticket:
    require(principal, None, TicketAction.open)
    if not principal.is_staff:
        refused = [f for f in STAFF_ONLY_ON_CREATE if f in data.model_fields_set]
        if refused:
            raise Forbidden(f"Customers cannot set {', '.join(refused)}.")
    requester = await resolve_requester(session, principal, data)
    status = (
        await get_usable_status(session, data.status_id)
        if data.status_id is not None
        else await default_status(session, StatusCategory.new)
    )
    if data.group_id is not None:
        await references.check_group(session, data.group_id)
    assignee_id = (
        await references.resolve_assignee(session, principal, data.assignee_id)
        if data.assignee_id is not None
        else None
    )
    await references.check_assignee_in_group(session, assignee_id, data.group_id)
    _check_due_at(data.type, data.due_at)
    tags = normalize_tags(data.tags, loc=("body", "tags"))
    await _ensure_external_id_free(session, data.external_id)
    priority = data.priority or await _derived_priority(session, data.impact, data.urgency)
    product_id, asset_id = await products.resolve(
        session, requester.id, data.product_id, data.asset_id
    )
    custom_fields = await custom_values.validated(session, principal, {}, data.custom_fields)
    await custom_values.check_entry(session, principal, status.category, custom_fields)
    first = NewComment.from_request(principal, None, data.comment)
    actor = author = Actor.of(principal)
    if data.comment.author_id is not None:
        author, first = await relayed_author(
            session, principal, data.comment, requester_id=requester.id, ticket_id=None,
            loc=("body", "comment"),
        )  # fmt: skip

    draft = TicketDraft(
        subject=data.subject,
        requester=requester,
        submitter_id=principal.user_id,
        status=status,
        first_comment=first,
        channel=Channel(data.channel),
        group_id=data.group_id,
        assignee_id=assignee_id,
        priority=priority,
        impact=data.impact,
        urgency=data.urgency,
        type=data.type,
        due_at=data.due_at,
        tags=tags,
        external_id=data.external_id,
        required_skills=data.required_skills,
        product_id=product_id,
        asset_id=asset_id,
        custom_fields=custom_fields,
    )
    opened = await open_ticket(session, draft, actor=actor, author=author, now=now)
    return opened.ticket


async def apply_update(
    session: AsyncSession,
    principal: Principal,
    ticket: Ticket,
    data: TicketUpdate,
    *,
    now: datetime,
    via: Via = Via.api,
    changes: ChangeSet | None = None,
) -> ChangeSet:
    """Apply ``data`` to a locked ticket and run the change through the pipeline; returns
    what changed (into ``changes``, when the caller brings one)."""
    ensure_not_closed(ticket)
    fields = data.model_fields_set
    if "comment" in fields and data.comment.author_id is not None:
        raise InvalidInput(
            "author_id is accepted when creating a ticket and on POST …/comments, not with "
            "other changes.",
            loc=("body", "comment", "author_id"),
        )
    changes = changes if changes is not None else ChangeSet()
    actor = Actor.of(principal, via)
    if not principal.is_staff:
        await _customer_update(session, principal, actor, ticket, data, changes, now)
    elif fields - {"comment"}:
        require(principal, ticket, TicketAction.edit)
    if principal.is_staff and "comment" in fields:
        comment = NewComment.from_request(principal, ticket, data.comment)
        await add_comment(session, ticket, comment, actor=actor, changes=changes, now=now)
    if principal.is_staff and allows(principal.role, Relation.staff, TicketAction.edit):
        await _staff_update(session, principal, ticket, data, changes, now)
    if changes.changed("status"):
        await custom_values.check_entry(
            session, principal, ticket.status_category, ticket.custom_fields
        )
    if not changes:
        return changes
    ticket.updated_at = now
    await session.flush()
    await commit_change(session, ticket, changes, actor=actor, now=now)
    return changes


async def comment_on_ticket(
    session: AsyncSession, principal: Principal, ticket_id: int, data: CommentCreate, *,
    now: datetime,
) -> TicketComment:  # fmt: skip
    """A public reply or a private note on its own, with the status moves it brings."""
    ticket = await get_visible_ticket(session, principal, ticket_id, for_update=True)
    changes = ChangeSet()
    if data.author_id is None:
        actor, comment = Actor.of(principal), NewComment.from_request(principal, ticket, data)
    else:
        actor, comment = await relayed_author(
            session, principal, data, requester_id=ticket.requester_id, ticket_id=ticket.id,
            loc=("body",),
        )  # fmt: skip
    row = await add_comment(session, ticket, comment, actor=actor, changes=changes, now=now)
    await session.flush()
    await commit_change(session, ticket, changes, actor=actor, now=now)
    return row


async def _customer_update(
    session: AsyncSession,
    principal: Principal,
    actor: Actor,
    ticket: Ticket,
    data: TicketUpdate,
    changes: ChangeSet,
    now: datetime,
) -> None:
    refused = sorted(data.model_fields_set - {"status_id", "comment", "custom_fields"})
    if refused:
        raise Forbidden(f"Customers cannot change {', '.join(refused)}.")
    if "custom_fields" in data.model_fields_set:
        await custom_values.apply_values(session, principal, ticket, data.custom_fields, changes)
    if "comment" in data.model_fields_set:
        comment = NewComment.from_request(principal, ticket, data.comment)
        await add_comment(session, ticket, comment, actor=actor, changes=changes, now=now)
    if "status_id" in data.model_fields_set:
        require(principal, ticket, TicketAction.solve)
        status = await get_usable_status(session, data.status_id)
        if status.category != StatusCategory.solved:
            raise refusal(principal.role, TicketAction.edit)
        set_status(ticket, status, changes, now)


async def _staff_update(
    session: AsyncSession,
    principal: Principal,
    ticket: Ticket,
    data: TicketUpdate,
    changes: ChangeSet,
    now: datetime,
) -> None:
    fields = data.model_fields_set
    if "subject" in fields:
        changes.set(ticket, "subject", data.subject)
    if "requester_id" in fields:
        requester = await references.check_requester(session, data.requester_id)
        changes.set(ticket, "requester_id", requester.id)
    if "group_id" in fields:
        if data.group_id is not None:
            await references.check_group(session, data.group_id)
        changes.set(ticket, "group_id", data.group_id)
    if "assignee_id" in fields:
        assignee_id = (
            await references.resolve_assignee(session, principal, data.assignee_id)
            if data.assignee_id is not None
            else None
        )
        changes.set(ticket, "assignee_id", assignee_id)
    if changes.changed("group_id") or changes.changed("assignee_id"):
        await references.check_assignee_in_group(session, ticket.assignee_id, ticket.group_id)
    if "status_id" in fields:
        set_status(ticket, await get_usable_status(session, data.status_id), changes, now)
    for name in ("impact", "urgency", "type", "due_at"):
        if name in fields:
            changes.set(ticket, name, getattr(data, name))
    if changes.changed("type") or changes.changed("due_at"):
        _check_due_at(ticket.type, ticket.due_at)
    if "priority" in fields:
        set_priority(ticket, data.priority, changes)
    elif changes.changed("impact") or changes.changed("urgency"):
        set_priority(
            ticket, await _derived_priority(session, ticket.impact, ticket.urgency), changes
        )
    if "external_id" in fields and data.external_id != ticket.external_id:
        await _ensure_external_id_free(session, data.external_id, ticket.id)
        changes.set(ticket, "external_id", data.external_id)
    if "required_skills" in fields:
        changes.set(ticket, "required_skills", data.required_skills)
    if fields & {"product_id", "asset_id"} or changes.changed("requester_id"):
        await products.apply_change(
            session, ticket, fields, data.product_id, data.asset_id, changes
        )
    await _update_tags(session, ticket, data, changes)
    if "custom_fields" in fields:
        await custom_values.apply_values(session, principal, ticket, data.custom_fields, changes)


async def _update_tags(
    session: AsyncSession, ticket: Ticket, data: TicketUpdate, changes: ChangeSet
) -> None:
    fields = data.model_fields_set
    if not fields & {"tags", "add_tags", "remove_tags"}:
        return
    current = list(ticket.tags)
    tags = normalize_tags(data.tags, loc=("body", "tags")) if "tags" in fields else current
    if "add_tags" in fields:
        added = normalize_tags(data.add_tags, loc=("body", "add_tags"))
        tags = normalize_tags([*tags, *added], loc=("body", "add_tags"))
    if "remove_tags" in fields:
        removed = set(normalize_tags(data.remove_tags, loc=("body", "remove_tags")))
        tags = [t for t in tags if t not in removed]
    if changes.set(ticket, "tags", tags):
        await adjust_tag_counts(session, set(tags) - set(current), set(current) - set(tags))


async def bulk_update(
    session: AsyncSession,
    principal: Principal,
    ids: list[int],
    data: TicketUpdate,
    *,
    now: datetime,
) -> list[Ticket]:
    """All or nothing: any refusal rolls back every ticket's change."""
    if not allows(principal.role, Relation.staff, TicketAction.edit):
        raise Forbidden("Only agents and admins may update tickets in bulk.")
    # Locking in id order keeps concurrent bulk updates from deadlocking.
    rows = await session.scalars(
        visible_tickets(principal).where(Ticket.id.in_(ids)).order_by(Ticket.id).with_for_update()
    )
    found = {t.id: t for t in rows}
    for index, ticket_id in enumerate(ids):
        if ticket_id not in found:
            raise InvalidInput(f"Ticket {ticket_id} does not exist.", loc=("body", "ids", index))
    for ticket_id in ids:
        await apply_update(session, principal, found[ticket_id], data, now=now)
    return [found[i] for i in ids]
