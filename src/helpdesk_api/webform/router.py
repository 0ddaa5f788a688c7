from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from helpdesk_api.attachments.dependencies import AppSettings, AttachmentStorage
from helpdesk_api.core.auth import Principal, bearer_scheme, get_principal
from helpdesk_api.core.client_address import ClientAddress
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.errors import NotFound, problem_responses
from helpdesk_api.webform import form_tokens, service, submissions
from helpdesk_api.webform.schemas import FormToken, RequestReceived, WebRequestCreate

router = APIRouter(prefix="/v1/public/requests", tags=["web-form"], route_class=TransactionalRoute)

# No token needed; a customer's may be sent.
OPTIONAL_TOKEN: dict[str, Any] = {"security": [{}]}


async def optional_customer(
    request: Request,
    session: DB,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    now: Now,
) -> Principal | None:
    """None without a token; a token that is sent must be valid (401 otherwise)."""
    if credentials is None:
        return None
    return await get_principal(request, session, credentials, now)


def _sender(request: Request, customer: Principal | None) -> service.Sender:
    settings = request.app.state.settings
    key = ClientAddress.from_settings(
        settings.trusted_proxy_header, settings.trusted_proxy_count, settings.trusted_proxies
    ).key(request.scope)
    address = key.removeprefix(b"addr:").decode(errors="replace")
    # An IPv6 client is its /64 for the budget; the CAPTCHA verifier wants one address.
    remote_ip = None if "/" in address or not key.startswith(b"addr:") else address
    return service.Sender(submissions.address_digest(key), remote_ip, customer)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=OPTIONAL_TOKEN,
    responses=problem_responses(
        status_413="An attachment or the whole request is too large",
        status_503="The CAPTCHA verifier could not be reached; retry",
    ),
)
async def submit_request(
    request: Request,
    data: WebRequestCreate,
    session: DB,
    storage: AttachmentStorage,
    settings: AppSettings,
    now: Now,
    customer: Annotated[Principal | None, Depends(optional_customer)],
) -> RequestReceived:
    """A request from the public web form: opens a ticket (`channel` and `via` `web`) for
    the customer with this e-mail, created on first contact, with the body as its first
    public comment and the files attached. No token needed; with a customer's token the
    request is theirs (`name` and `email` ignored) and the answer names the ticket. Staff
    tokens are refused (`403`).

    The answer is the same `202` whether the address was known or not, whatever else it
    asked, and for requests caught by the honeypot (`website` filled in: nothing is kept)
    or sent for a staff or inactive user's address (nothing is opened). The sender
    follows up by replying to the e-mails the ticket sends (mail threading), or with a
    customer token.

    Abuse controls: at most `web_form_requests_per_address_per_hour` requests an hour per
    client address (`429` with `Retry-After`; every request counts, caught ones too); a
    signed `form_token` when the service has a form secret (`422` when missing, forged,
    expired, too new or already spent); a CAPTCHA check when a verify URL is configured
    (`422` when not solved, `503` when the verifier cannot be reached). Attachments:
    base64 in the JSON, at most `web_form_max_attachments`, each within the attachment size
    limit (`413`), the whole body within `web_form_max_body_bytes` (`413`)."""
    return await service.submit(
        session,
        data,
        sender=_sender(request, customer),
        policy=service.WebFormPolicy.from_settings(settings),
        storage=storage,
        now=now,
    )


@router.get(
    "/form-token",
    openapi_extra={"security": [{}]},
    responses=problem_responses(status_404="The service does not sign its forms"),
)
async def issue_form_token(settings: AppSettings, now: Now) -> FormToken:
    """A signed token for one web form request, to put in the form as it is shown
    (`form_token`). Valid from `not_before` to `expires_at`, once. `404` when the service
    has no form secret (then no token is needed)."""
    if settings.web_form_secret is None:
        raise NotFound("This service does not sign its web forms: no form token is needed.")
    return FormToken(
        token=form_tokens.issue(settings.web_form_secret, now=now),
        expires_at=now + timedelta(seconds=settings.web_form_token_max_age_seconds),
        not_before=now + timedelta(seconds=settings.web_form_token_min_age_seconds),
    )
