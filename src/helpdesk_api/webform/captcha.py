"""The CAPTCHA check: the protocol reCAPTCHA, hCaptcha and Turnstile share.

A form POST of ``secret``, ``response`` (what the widget gave the browser) and, when known,
``remoteip`` to the configured verify URL, answered with JSON ``{"success": true|false}``.
A verifier that cannot be reached or answers nonsense is a 503: the request may be fine,
the sender should retry, and nothing is stored meanwhile.
"""

from dataclasses import dataclass

import httpx

from helpdesk_api.core.errors import InvalidInput, ServiceUnavailable

LOC = ("body", "captcha_response")


@dataclass(frozen=True)
class CaptchaCheck:
    verify_url: str
    secret: str | None
    timeout_seconds: float

    async def verify(self, response: str | None, *, remote_ip: str | None) -> None:
        if not response:
            raise InvalidInput("The CAPTCHA must be solved.", loc=LOC, type="missing")
        form = {"response": response}
        if self.secret is not None:
            form["secret"] = self.secret
        if remote_ip is not None:
            form["remoteip"] = remote_ip
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                reply = await client.post(self.verify_url, data=form)
            answer = reply.json() if reply.status_code < 500 else None
        except (httpx.HTTPError, ValueError) as exc:
            raise _unavailable() from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("success"), bool):
            raise _unavailable()
        if not answer["success"]:
            raise InvalidInput(
                "The CAPTCHA was not solved; try it again.", loc=LOC, type="captcha_failed"
            )


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The CAPTCHA could not be checked just now; send the request again shortly.",
        headers={"Retry-After": "5"},
    )
