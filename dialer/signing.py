"""How receivers know a request came from Dialdeck: campaign events (dialer.outbound) and pre-dial
checks (dialer.predial) carry `X-Dialdeck-Timestamp` (Unix seconds when the request left) and
`X-Dialdeck-Signature`: `v1=<hex>` per signing secret of the organization, the HMAC-SHA256 of
"<timestamp>.<body>" (the body as sent, byte for byte). Within a day of a rotation both the new
and the previous secret sign, comma-separated, so a receiver holding either accepts. README,
"Campaign events", shows a receiver's check.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

TIMESTAMP_HEADER = "X-Dialdeck-Timestamp"
SIGNATURE_HEADER = "X-Dialdeck-Signature"


def signature(secrets: list[str], timestamp: str, body: bytes) -> str:
    """`v1=<hex>` per secret: HMAC-SHA256 of "<timestamp>.<body>"."""
    signed = timestamp.encode() + b"." + body
    return ", ".join(f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets)


def signed(secrets: list[str], body: bytes, at: datetime) -> dict[str, str]:
    """The two headers for `body` sent at `at`."""
    stamp = str(int(at.timestamp()))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(secrets, stamp, body)}
