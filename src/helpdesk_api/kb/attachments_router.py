"""Files of article translations: staff upload and list them; the public path serves one to
whoever may read its translation."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from helpdesk_api.attachments.content import content_etag, content_headers, etag_matches
from helpdesk_api.attachments.dependencies import AppSettings, AttachmentStorage
from helpdesk_api.core.auth import Agent, Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.errors import problem_responses
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.kb import attachments
from helpdesk_api.kb.caching import MAX_AGE_SECONDS
from helpdesk_api.kb.inline_images import public_path
from helpdesk_api.kb.locales import LocalePath
from helpdesk_api.kb.translation_schemas import ArticleAttachmentPage, ArticleAttachmentRead
from helpdesk_api.kb.visitors import Reader, audience_of
from helpdesk_api.models import Attachment

router = APIRouter(prefix="/v1", tags=["knowledge-base"], route_class=TransactionalRoute)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes, sent as they are (not multipart), its media type in "
        "Content-Type (application/octet-stream when absent).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes (served as `/v1/attachments/{id}/content` serves "
        "them: active types as `application/octet-stream` attachments), with `ETag` and "
        "`Cache-Control` (public for anonymous readers).",
        "content": {"application/octet-stream": _BINARY, "image/*": _BINARY, "*/*": _BINARY},
    },
    304: {"description": "Not modified: the If-None-Match ETag is current"},
}


def _read(article_id: int, attachment: Attachment) -> ArticleAttachmentRead:
    return ArticleAttachmentRead(
        id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        created_at=attachment.created_at,
        url=public_path(article_id, attachment.id),
    )


@router.post(
    "/kb/articles/{article_id}/translations/{locale}/attachments",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Idempotent],
    openapi_extra=_UPLOAD_BODY,
    responses=problem_responses(status_413="The file is larger than `max_attachment_bytes`"),
)
async def upload_translation_attachment(
    article_id: ResourceId,
    locale: LocalePath,
    request: Request,
    session: DB,
    principal: Agent,
    storage: AttachmentStorage,
    settings: AppSettings,
    filename: Annotated[
        str,
        Query(min_length=1, max_length=255, description="Shown to readers; no / \\ or controls"),
    ],
) -> ArticleAttachmentRead:
    """A file of the translation (an image to show inline, a document to link): reference
    it in the body by its `url` (`<img src="/v1/public/kb/articles/…/attachments/…">`). A
    body may show only its own translation's files. `404` for a missing article or
    translation (nothing stored), `413` past the size limit."""
    attachment = await attachments.upload(
        session,
        principal,
        article_id=article_id,
        locale=locale,
        storage=storage,
        stream=request.stream(),
        filename=filename,
        content_type=request.headers.get("content-type"),
        max_bytes=settings.max_attachment_bytes,
    )
    return _read(article_id, attachment)


@router.get("/kb/articles/{article_id}/translations/{locale}/attachments")
async def list_translation_attachments(
    article_id: ResourceId,
    locale: LocalePath,
    session: DB,
    principal: Staff,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ArticleAttachmentPage:
    """In upload order."""
    rows, next_cursor = await attachments.of_translation(
        session, article_id, locale, limit=limit, cursor=cursor
    )
    return ArticleAttachmentPage(data=[_read(article_id, a) for a in rows], next_cursor=next_cursor)


@router.get(
    "/public/kb/articles/{article_id}/attachments/{attachment_id}",
    response_class=Response,
    responses=_CONTENT,
    openapi_extra={"security": [{}]},
)
async def get_public_attachment(
    article_id: ResourceId,
    attachment_id: ResourceId,
    session: DB,
    reader: Reader,
    storage: AttachmentStorage,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    """A file of a translation the caller may read (published; `public`, or `signed_in`
    with a token). No token needed. `404` for anything else: drafts, internal articles,
    signed-in ones without a token, files of other articles."""
    attachment = await attachments.readable_attachment(
        session, audience_of(reader), article_id, attachment_id
    )
    headers = content_headers(attachment)
    # Its bytes never change; who may read them can (a translation unpublished): revalidate.
    scope = "private" if reader is not None else "public"
    headers["Cache-Control"] = f"{scope}, max-age={MAX_AGE_SECONDS}"
    headers["Vary"] = "Authorization"
    if etag_matches(if_none_match, content_etag(attachment)):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": headers["ETag"]})
    chunks = await storage.open(attachment.storage_key)
    headers["Content-Length"] = str(attachment.size)
    return StreamingResponse(chunks, headers=headers, media_type=headers.pop("Content-Type"))
