"""The vocabulary of breaks (DESIGN.md): kinds, statuses, causes and dispositions."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What disagrees: values, a side's record, or a side's bookings of one key."""

    MISMATCH = "MISMATCH"
    MISSING = "MISSING"
    DUPLICATE = "DUPLICATE"


class Status(StrEnum):
    """Where a break stands: OPEN until the data agrees again (RESOLVED) or a person or an
    auto-close rule closes it (CLOSED); IN_REVIEW while an analyst works on it."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"
    IN_REVIEW = "IN_REVIEW"
    CLOSED = "CLOSED"


CAUSES = (
    "TIMING",
    "ROUNDING",
    "FX",
    "STATIC_DATA",
    "FAT_FINGER",
    "FEE",
    "MISSING_BOOKING",
    "DUPLICATE_BOOKING",
    "UNKNOWN",
)
DISPOSITIONS = ("AUTO_CLOSE", "QUEUE", "ESCALATE")
