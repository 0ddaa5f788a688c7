"""Tickets and their conversations: the aggregate every other domain works on.

This is the package's public surface: other domains import from here, not from its modules
(an import-linter contract keeps it so). Changing a ticket goes through ``commit_change``;
adding a comment through ``add_comment``.
"""

from helpdesk_api.tickets.ccs import add_ccs
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.comment_schemas import CommentCreate, CommentRead, CommentText, Id
from helpdesk_api.tickets.comments import NewComment, add_comment, copy_history, present_comments
from helpdesk_api.tickets.include_schemas import INCLUDE_DESCRIPTION, INCLUDE_FIELDS
from helpdesk_api.tickets.lifecycle import set_priority, set_status
from helpdesk_api.tickets.listing import (
    SlaStatus,
    TicketFilters,
    list_tickets,
    sla_condition,
)
from helpdesk_api.tickets.opening import OpenedTicket, TicketDraft, open_ticket
from helpdesk_api.tickets.pipeline import (
    SESSION_KEY,
    ChangeDidNotSettle,
    Stage,
    StagedReaction,
    TicketChange,
    TicketPipeline,
    commit_change,
)
from helpdesk_api.tickets.representation import (
    present,
    present_to_staff,
    remember_expected_first_reply,
)
from helpdesk_api.tickets.schemas import TicketPage, TicketRead, TicketUpdate
from helpdesk_api.tickets.service import apply_update, get_visible_ticket
from helpdesk_api.tickets.sideloads import included, parse_include
from helpdesk_api.tickets.sorting import TicketSort
from helpdesk_api.tickets.tagging import adjust_tag_counts

__all__ = [
    "INCLUDE_DESCRIPTION",
    "INCLUDE_FIELDS",
    "SESSION_KEY",
    "ChangeDidNotSettle",
    "ChangeSet",
    "CommentCreate",
    "CommentRead",
    "CommentText",
    "Id",
    "NewComment",
    "OpenedTicket",
    "SlaStatus",
    "Stage",
    "StagedReaction",
    "TicketChange",
    "TicketDraft",
    "TicketFilters",
    "TicketPage",
    "TicketPipeline",
    "TicketRead",
    "TicketSort",
    "TicketUpdate",
    "add_ccs",
    "add_comment",
    "adjust_tag_counts",
    "apply_update",
    "commit_change",
    "copy_history",
    "get_visible_ticket",
    "included",
    "list_tickets",
    "open_ticket",
    "parse_include",
    "present",
    "present_comments",
    "present_to_staff",
    "remember_expected_first_reply",
    "set_priority",
    "set_status",
    "sla_condition",
]
