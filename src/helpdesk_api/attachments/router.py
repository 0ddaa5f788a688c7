from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from helpdesk_api.attachments import service
from helpdesk_api.attachments.content import content_etag, content_headers, etag_matches
from helpdesk_api.attachments.dependencies import AppSettings, AttachmentStorage
from helpdesk_api.attachments.schemas import AttachmentRead
from helpdesk_api.core.auth import Authenticated
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import make_etag
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.params import ResourceId
from helpdesk_api.models import Attachment

router = APIRouter(prefix="/v1/attachments", tags=["attachments"], route_class=TransactionalRoute)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes, sent as they are (not multipart). Its media type "
        "goes in Content-Type (application/octet-stream when absent).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# Real media types first: a generator drops a response that is only */* (openapi-python-client
# does), and application/octet-stream is the one every generator reads as bytes.
_CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes, with the media type it was uploaded with in "
        "Content-Type (`image/png`, `application/pdf`, …). Types a browser could run (HTML, "
        "scripts, SVG, XML) are served as `application/octet-stream` with "
        "`Content-Disposition: attachment`; images, audio, video and plain text are served "
        "`inline`. Read the body as bytes (a Blob) whatever the type.",
        "content": {
            "application/octet-stream": _BINARY,
            "image/*": _BINARY,
            "audio/*": _BINARY,
            "video/*": _BINARY,
            "text/plain": _BINARY,
            # Any other stored type (application/pdf, …), served as uploaded: listed last, so
            # a generator that takes the first type it knows gets application/octet-stream.
            "*/*": _BINARY,
        },
    },
    304: {"description": "Not modified: the If-None-Match ETag is current"},
}


def _etag(attachment: Attachment) -> str:
    # Metadata never changes once uploaded.
    return make_etag("attachment", attachment.id, 1)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Idempotent],
    openapi_extra=_UPLOAD_BODY,
)
async def upload_attachment(
    request: Request,
    session: DB,
    principal: Authenticated,
    storage: AttachmentStorage,
    settings: AppSettings,
    response: Response,
    filename: Annotated[
        str,
        Query(min_length=1, max_length=255, description="Shown to readers; no / \\ or controls"),
    ],
) -> AttachmentRead:
    """Upload a file to attach to a comment later (`attachment_ids` on the comment).

    Until attached it is visible only to its uploader.
    """
    attachment = await service.upload_attachment(
        session,
        principal,
        storage=storage,
        stream=request.stream(),
        filename=filename,
        content_type=request.headers.get("content-type"),
        max_bytes=settings.max_attachment_bytes,
    )
    response.headers["Location"] = f"/v1/attachments/{attachment.id}"
    response.headers["ETag"] = _etag(attachment)
    return AttachmentRead.model_validate(attachment)


@router.get("/{attachment_id}")
async def get_attachment(
    attachment_id: ResourceId, session: DB, principal: Authenticated, response: Response
) -> AttachmentRead:
    attachment = await service.get_visible_attachment(session, principal, attachment_id)
    response.headers["ETag"] = _etag(attachment)
    return AttachmentRead.model_validate(attachment)


@router.get("/{attachment_id}/content", response_class=Response, responses=_CONTENT_RESPONSES)
async def get_attachment_content(
    attachment_id: ResourceId,
    session: DB,
    principal: Authenticated,
    storage: AttachmentStorage,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    attachment = await service.get_visible_attachment(session, principal, attachment_id)
    headers = content_headers(attachment)
    if etag_matches(if_none_match, content_etag(attachment)):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": headers["ETag"]})
    chunks = await storage.open(attachment.storage_key)
    headers["Content-Length"] = str(attachment.size)
    return StreamingResponse(chunks, headers=headers, media_type=headers.pop("Content-Type"))
