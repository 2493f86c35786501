"""Webhook triggers: a caller proves it holds the playbook's secret by signing the body.

The signature is ``sha256=`` and the hex HMAC-SHA256, under the secret, of the timestamp
(seconds since the epoch), a dot, and the raw body. A timestamp more than five minutes
away from now is refused, and one delivery (one signature) starts one run at most.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from watchkeeper.errors import AuthenticationError

SIGNATURE_HEADER = "X-Watchkeeper-Signature"
TIMESTAMP_HEADER = "X-Watchkeeper-Timestamp"
MAX_SKEW_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes,
           now: datetime) -> str:
    """The delivery's key (for one run per delivery), or AuthenticationError."""
    if not timestamp or not signature:
        raise AuthenticationError(f"a webhook needs {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}")
    try:
        if len(timestamp) > 12:
            raise ValueError(timestamp)
        when = int(timestamp)
    except ValueError:
        raise AuthenticationError(f"{TIMESTAMP_HEADER} must be seconds since the epoch"
                                  ) from None
    if abs(now.timestamp() - when) > MAX_SKEW_S:
        raise AuthenticationError("the webhook's timestamp is too old or in the future")
    if not hmac.compare_digest(sign(secret, when, body), signature.strip()):
        raise AuthenticationError("the webhook's signature does not match")
    return hashlib.sha256(signature.strip().encode()).hexdigest()
