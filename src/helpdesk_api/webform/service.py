"""A request from the public web form: abuse checks, then a ticket for the sender's customer.

The checks run cheapest first: the per-address budget (429), the honeypot (answered as
accepted, nothing kept but the budget's count), the signed form token and the CAPTCHA (422,
503 when the verifier cannot be reached), the attachments (422, 413). Only then is the
customer found or created by e-mail and the ticket opened, through the ticket pipeline like
any other (``channel = via = web``), so rules, routing, SLA clocks and notices apply. The
knowledge base bot may then answer it at once (``kb.bot``, settings ``kb_bot_web_form_*``).

Whatever becomes of a request that passed the checks, the answer is the same 202: an address
that belongs to staff or to an inactive (anonymised, merged) user opens nothing and says so
to nobody but the log. The form's trust is that of e-mail: anyone may write as any address,
and the replies go to that address.
"""

import base64
import binascii
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.attachments.content import normalize_content_type
from helpdesk_api.attachments.service import check_filename, store_received_file
from helpdesk_api.attachments.storage import Storage
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden, InvalidInput, PayloadTooLarge
from helpdesk_api.core.settings import Settings
from helpdesk_api.kb.bot import BotConfig, answer_at_once
from helpdesk_api.models import Channel, Role, StatusCategory, Ticket, User, Via
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets import NewComment, TicketDraft, open_ticket
from helpdesk_api.users.service import find_or_create_customer, get_user
from helpdesk_api.webform import form_tokens, submissions
from helpdesk_api.webform.captcha import CaptchaCheck
from helpdesk_api.webform.schemas import RequestReceived, WebAttachment, WebRequestCreate

logger = logging.getLogger("helpdesk_api.webform")


@dataclass(frozen=True)
class WebFormPolicy:
    per_hour: int
    max_attachments: int
    max_attachment_bytes: int
    secret: str | None
    token_min_age: timedelta
    token_max_age: timedelta
    captcha: CaptchaCheck | None
    bot: BotConfig

    @classmethod
    def from_settings(cls, settings: Settings) -> "WebFormPolicy":
        url = settings.web_form_captcha_verify_url
        return cls(
            per_hour=settings.web_form_requests_per_address_per_hour,
            max_attachments=settings.web_form_max_attachments,
            max_attachment_bytes=settings.max_attachment_bytes,
            secret=settings.web_form_secret,
            token_min_age=timedelta(seconds=settings.web_form_token_min_age_seconds),
            token_max_age=timedelta(seconds=settings.web_form_token_max_age_seconds),
            captcha=None
            if url is None
            else CaptchaCheck(
                url, settings.web_form_captcha_secret, settings.web_form_captcha_timeout_seconds
            ),
            bot=BotConfig.of_web_form(settings),
        )


@dataclass(frozen=True)
class Sender:
    address: bytes  # the digest of the client's rate-limit key
    remote_ip: str | None  # for the CAPTCHA verifier, when the client is one address
    customer: Principal | None  # a customer's token, when the form sent one


@dataclass(frozen=True)
class _File:
    filename: str
    content_type: str
    content: bytes


def received(ticket_id: int | None = None) -> RequestReceived:
    return RequestReceived(status="received", ticket_id=ticket_id)


async def submit(
    session: AsyncSession,
    data: WebRequestCreate,
    *,
    sender: Sender,
    policy: WebFormPolicy,
    storage: Storage,
    now: datetime,
) -> RequestReceived:
    if sender.customer is not None and sender.customer.is_staff:
        raise Forbidden("Staff open tickets with POST /v1/tickets; this form is for customers.")
    await submissions.check_budget(session, sender.address, per_hour=policy.per_hour, now=now)
    if data.website:
        submission_id = await submissions.start(session, sender.address, token_digest=None, now=now)
        assert submission_id is not None  # no token, no conflict
        await submissions.finish(session, submission_id, outcome="honeypot")
        return received()
    token_digest = None
    if policy.secret is not None:
        if not data.form_token:
            raise form_tokens.missing()
        token_digest = form_tokens.check(
            policy.secret,
            data.form_token,
            now=now,
            min_age=policy.token_min_age,
            max_age=policy.token_max_age,
        )
    if sender.customer is None:
        _require_contact(data)
    files = _decode(data.attachments or [], policy)
    if policy.captcha is not None:
        await policy.captcha.verify(data.captcha_response, remote_ip=sender.remote_ip)
    submission_id = await submissions.start(
        session, sender.address, token_digest=token_digest, now=now
    )
    if submission_id is None:
        raise form_tokens.spent()
    await submissions.prune(session, keep=policy.token_max_age, now=now)

    requester = await _requester(session, data, sender)
    if requester is None:
        logger.warning("web form request for a staff or inactive user's address dropped")
        await submissions.finish(session, submission_id, outcome="dropped")
        return received()
    ticket = await _open(session, data, requester, files, storage=storage, now=now,
                         anonymous=sender.customer is None)  # fmt: skip
    await answer_at_once(
        session, policy.bot, ticket, text=f"{data.subject}\n{data.body}", channel_id=None, now=now
    )
    ticket_id = ticket.id
    await submissions.finish(session, submission_id, outcome="created", ticket_id=ticket_id)
    return received(ticket_id if sender.customer is not None else None)


def _require_contact(data: WebRequestCreate) -> None:
    for field in ("name", "email"):
        if getattr(data, field) is None:
            raise InvalidInput(
                f"{field} is required without a customer's token.", loc=("body", field),
                type="missing",
            )  # fmt: skip


def _decode(attachments: list[WebAttachment], policy: WebFormPolicy) -> list[_File]:
    if len(attachments) > policy.max_attachments:
        raise InvalidInput(
            f"At most {policy.max_attachments} attachments per request.",
            loc=("body", "attachments"),
            type="too_many",
        )
    files = []
    for index, attachment in enumerate(attachments):
        loc = ("body", "attachments", index)
        try:
            content = base64.b64decode(attachment.content, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(
                "The content is not valid base64.", loc=(*loc, "content"), type="base64"
            ) from None
        if not content:
            raise InvalidInput("The file is empty.", loc=(*loc, "content"), type="empty")
        if len(content) > policy.max_attachment_bytes:
            raise PayloadTooLarge(
                f"Attachment {index} is larger than the limit of "
                f"{policy.max_attachment_bytes} bytes."
            )
        try:
            filename = check_filename(attachment.filename)
        except InvalidInput as exc:
            raise InvalidInput(exc.detail, loc=(*loc, "filename")) from None
        content_type = normalize_content_type(attachment.content_type)
        if content_type is None:
            raise InvalidInput("Not a media type.", loc=(*loc, "content_type"), type="content_type")
        files.append(_File(filename, content_type, content))
    return files


async def _requester(session: AsyncSession, data: WebRequestCreate, sender: Sender) -> User | None:
    if sender.customer is not None:
        return await get_user(session, sender.customer.user_id)
    assert data.email is not None
    assert data.name is not None
    user = await find_or_create_customer(session, data.email, data.name, actor=None, via="web")
    # Nobody may write as staff through an anonymous form, nor revive a forgotten customer.
    if user.role != Role.customer or not user.is_active:
        return None
    return user


async def _open(
    session: AsyncSession,
    data: WebRequestCreate,
    requester: User,
    files: list[_File],
    *,
    storage: Storage,
    now: datetime,
    anonymous: bool,
) -> Ticket:
    attachment_ids = []
    for file in files:
        stored = await store_received_file(
            session,
            storage=storage,
            uploader_id=requester.id,
            content=file.content,
            filename=file.filename,
            content_type=file.content_type,
        )
        attachment_ids.append(stored.id)
    # What the form said, for staff: the name typed may differ from the customer's own.
    source = {"web_form": {"name": data.name, "email": data.email}} if anonymous else None
    first = NewComment(
        body=data.body, public=True, attachment_ids=attachment_ids, via=Via.web, source=source
    )
    draft = TicketDraft(
        subject=data.subject,
        requester=requester,
        submitter_id=requester.id,
        status=await default_status(session, StatusCategory.new),
        first_comment=first,
        channel=Channel.web,
    )
    actor = Actor(user_id=requester.id, role=Role.customer, via=Via.web)
    opened = await open_ticket(session, draft, actor=actor, author=actor, now=now)
    return opened.ticket
