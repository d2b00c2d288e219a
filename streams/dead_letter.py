"""The DeadLetter message every stage past ingest writes for an input it cannot process:
where it was, the input as text (bounded, so the dead letter always fits in Kafka), why, and
which stage gave up. (Connectors bound their rows' text in :mod:`streams.ingest.dead_letters`.)

>>> from streams.avro import codec
>>> letter = codec("DeadLetter").decode(
...     encode(location="t/0@7", raw=b"\\xff{", reason="undecodable", stage="sink"))
>>> letter["location"], letter["raw"], letter["reason"], letter["stage"], letter["recon"]
('t/0@7', '\\\\xff{', 'undecodable', 'sink', '')
"""

from __future__ import annotations

from datetime import UTC, datetime

from streams.avro import codec

RAW_LIMIT = 64 * 1024  # bytes of the bad input a dead letter keeps (it must fit in Kafka)


def raw_text(raw: bytes | None) -> str:
    """The bad input as dead-letter text: undecodable bytes escaped, at most RAW_LIMIT."""
    if raw is None:
        return ""
    text = raw[:RAW_LIMIT].decode("utf-8", "backslashreplace")
    if len(raw) > RAW_LIMIT:
        text += f"... (truncated: {len(raw)} bytes in all)"
    return text


def encode(
    *,
    location: str,
    raw: bytes | None,
    reason: str,
    stage: str,
    recon: str = "",
    source: str = "",
) -> bytes:
    """The Avro DeadLetter message, stamped now."""
    return codec("DeadLetter").encode(
        {
            "recon": recon,
            "source": source,
            "location": location,
            "raw": raw_text(raw),
            "reason": reason,
            "stage": stage,
            "at": datetime.now(UTC),
        }
    )
