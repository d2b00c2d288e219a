"""The Break contract as the API returns it (``GET /api/breaks``, SSE ``break`` events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class FieldDiffOut(BaseModel):
    field: str
    values: dict[str, str | None]
    delta: str | None


class EvidenceOut(BaseModel):
    feature: str
    value: str
    weight: float


class BreakOut(BaseModel):
    break_id: str
    recon: str
    key: dict[str, str | None]
    kind: Literal["MISMATCH", "MISSING", "DUPLICATE"]
    missing_in: str | None
    status: Literal["OPEN", "RESOLVED"]
    fields: list[FieldDiffOut]
    cause: str | None
    confidence: float | None
    explanation: list[EvidenceOut]
    disposition: str | None
    priority: int | None
    first_seen: datetime
    updated_at: datetime
    version: int
    records: dict[str, dict[str, str | None]] = {}

    @classmethod
    def from_datum(cls, datum: dict[str, Any]) -> BreakOut:
        """From a decoded Break Avro datum or a ``breaks`` table row (same field names)."""
        return cls.model_validate(datum)
