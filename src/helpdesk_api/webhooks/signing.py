"""Standard Webhooks signatures, made by the reference library consumers verify with."""

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook as Signer

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_header(
    signing_secrets: list[str], msg_id: str, timestamp: datetime, body: str
) -> str:
    """``v1,<sig>`` per secret, space-separated: during a rotation both verify."""
    return " ".join(Signer(secret).sign(msg_id, timestamp, body) for secret in signing_secrets)
