"""The Break contract as the API returns it (``GET /api/breaks``, SSE ``break`` events)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, field_validator

from streams.domain.workflow import UNSETTLED
from streams.domain.workflow_rules import DEFAULT_WORKFLOW, WorkflowRules, ageing_bucket

Status = Literal["OPEN", "IN_REVIEW", "RESOLVED", "CLOSED"]


def _exact_text(value: Any) -> Any:
    """A decimal as its exact text (PostgreSQL's numeric comes back as a Decimal)."""
    return format(value, "f") if isinstance(value, Decimal) else value


class FieldDiffOut(BaseModel):
    field: str
    values: dict[str, str | None]
    delta: str | None


class EvidenceOut(BaseModel):
    feature: str
    value: str
    weight: float


class ProposalOut(BaseModel):
    """A close or write-off a maker proposed, awaiting an approver."""

    action: Literal["CLOSE", "WRITE_OFF"]
    reason: str
    note: str | None = None
    amount: str | None = None
    by: str
    at: datetime
    version: int


class OverrideOut(BaseModel):
    value: str
    by: str
    reason: str | None = None


class ActivityOut(BaseModel):
    """The action that made the break's latest revision."""

    command_id: str
    action: str
    by: str
    at: datetime
    to: str | None = None
    reason: str | None = None
    note: str | None = None
    text: str | None = None


class BreakOut(BaseModel):
    break_id: str
    recon: str
    key: dict[str, str | None]
    kind: Literal["MISMATCH", "MISSING", "DUPLICATE"]
    missing_in: str | None
    status: Status
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
    # the exception workflow
    revision: int = 0
    owner: str | None = None
    tags: list[str] = []
    close_reason: str | None = None
    close_note: str | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    approved_by: str | None = None
    written_off: str | None = None
    keep_open: bool = False
    proposal: ProposalOut | None = None
    analyst_cause: OverrideOut | None = None
    analyst_disposition: OverrideOut | None = None
    activity: ActivityOut | None = None
    materiality: str | None = None
    due: datetime | None = None
    # ageing, as of the response (business days in the recon's calendar)
    age_days: int | None = None
    ageing_bucket: str | None = None
    overdue: bool = False

    _text = field_validator("materiality", "written_off", mode="before")(_exact_text)

    @classmethod
    def from_datum(
        cls,
        datum: dict[str, Any],
        rules: WorkflowRules | None = None,
        now: datetime | None = None,
    ) -> BreakOut:
        """From a decoded Break Avro datum or a ``breaks`` table row (same field names),
        aged in ``rules``' calendar (the default: UTC, weekends off) as of ``now``."""
        out = cls.model_validate(datum)
        now = now or datetime.now(UTC)
        rules = rules or DEFAULT_WORKFLOW
        out.age_days = rules.age_days(out.first_seen, now)
        out.ageing_bucket = ageing_bucket(out.age_days)
        out.overdue = out.status in UNSETTLED and out.due is not None and now > out.due
        return out
