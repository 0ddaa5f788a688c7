from fastapi import APIRouter

from helpdesk_api.core.auth import Agent
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.params import ResourceId
from helpdesk_api.merging import service
from helpdesk_api.merging.schemas import MergeRequest, MergeResult
from helpdesk_api.tickets import present_to_staff

router = APIRouter(prefix="/v1", tags=["merging"], route_class=TransactionalRoute)


@router.post("/tickets/{ticket_id}/merge", dependencies=[Idempotent])
async def merge_tickets(
    ticket_id: ResourceId, data: MergeRequest, session: DB, principal: Agent, now: Now
) -> MergeResult:
    """Merge `source_ids` into this ticket, in one transaction: their conversations are copied
    here (authors, times, visibility and attachments kept), their requesters and CCs are
    copied on this ticket, tags are united, and each source is closed with a private note
    naming this ticket and records `merged_into_id`.

    Unknown or invisible sources are 422 at `["body", "source_ids", index]`; a source that is
    closed or already merged, or a closed target, is 409."""
    outcome = await service.merge_tickets(session, principal, ticket_id, data, now=now)
    target, *sources = await present_to_staff(session, [outcome.target, *outcome.sources])
    return MergeResult(
        target=target,
        sources=sources,
        copied_comment_ids=[c.id for c in outcome.copied],
    )
