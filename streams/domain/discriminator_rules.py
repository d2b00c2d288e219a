"""The Discriminator's rules as a recon configures them (``discriminator:`` in the recon YAML).

Pure pydantic, so a recon (``streams/recon.py``) holds it without importing the model::

    discriminator:
      reporting_currency: USD
      auto_close: {ROUNDING: 1.00, FX: 5.00}   # cause: auto-close below this materiality
      escalate_materiality: 100000
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from streams.domain.vocabulary import CAUSES


def _exact(value: Any) -> Any:
    return Decimal(repr(value)) if isinstance(value, float) else value


class DiscriminatorRules(BaseModel):
    """What a break needs, by cause, confidence, materiality and anomaly (defaults shown)."""

    model_config = ConfigDict(extra="forbid")

    reporting_currency: str = "USD"
    auto_close: dict[str, Decimal] = Field(
        default_factory=lambda: {"ROUNDING": Decimal(1)},
        description="cause -> auto-close when materiality (reporting currency) is below this",
    )
    auto_close_min_confidence: float = Field(0.8, ge=0, le=1)
    escalate_causes: list[str] = Field(
        default_factory=lambda: ["FAT_FINGER", "MISSING_BOOKING", "DUPLICATE_BOOKING", "UNKNOWN"]
    )
    escalate_materiality: Decimal = Decimal(100_000)
    anomaly_escalate: float = Field(0.9, ge=0, le=1, description="anomaly score that escalates")
    anomaly_min_materiality: Decimal = Decimal(10_000)
    low_confidence: float = Field(0.5, ge=0, le=1, description="below: raise the priority")
    priority_bands: list[Decimal] = Field(
        default_factory=lambda: [Decimal(v) for v in (1_000_000, 100_000, 10_000, 1_000)],
        description="materiality floors of priorities 1, 2, 3, 4 (below the last: 5)",
    )

    @field_validator("auto_close", mode="before")
    @classmethod
    def _exact_thresholds(cls, value: Any) -> Any:
        return {k: _exact(v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("escalate_materiality", "anomaly_min_materiality", mode="before")
    @classmethod
    def _exact_amount(cls, value: Any) -> Any:
        return _exact(value)

    @field_validator("auto_close", "escalate_causes")
    @classmethod
    def _known_causes(cls, value: Any) -> Any:
        unknown = [c for c in value if c not in CAUSES]
        if unknown:
            raise ValueError(f"unknown cause(s) {unknown}; causes are {', '.join(CAUSES)}")
        return value


DEFAULT_RULES = DiscriminatorRules.model_validate({})
