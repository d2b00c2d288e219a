"""The vocabulary of attribution (DESIGN.md): causes and dispositions."""

from __future__ import annotations

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
