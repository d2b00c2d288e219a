"""The webhook signature: HMAC-SHA256 of ``<timestamp>.<body>`` under the subscription's
secret, sent as ``X-Greenai-Signature: sha256=<hex>`` beside ``X-Greenai-Timestamp``. A
receiver recomputes it, compares in constant time and refuses old timestamps (replays).

>>> sig = sign("s3cret", 1700000000, b'{"alert_id":"a"}')
>>> sig
'sha256=a4562b125292a25da786ab2f0f861130208826e56de0bed4a09ff77669a0f447'
>>> verify("s3cret", 1700000000, b'{"alert_id":"a"}', sig, now=1700000100)
True
>>> verify("s3cret", 1700000000, b'{"alert_id":"b"}', sig, now=1700000100)
False
>>> verify("s3cret", 1700000000, b'{"alert_id":"a"}', sig, now=1700009999)  # too old
False
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE = "X-Greenai-Signature"
TIMESTAMP = "X-Greenai-Timestamp"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str,
    timestamp: int,
    body: bytes,
    signature: str,
    *,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: the signature, and that the timestamp is recent."""
    fresh = abs(now - timestamp) <= tolerance
    expected = sign(secret, timestamp, body).encode()
    return fresh and hmac.compare_digest(expected, signature.encode("utf-8", "replace"))
