"""The reconciliation definition: the recon YAML contract as a validated model."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from streams.domain.discriminator_rules import DiscriminatorRules
from streams.domain.workflow_rules import DEFAULT_WORKFLOW, WorkflowRules
from streams.values import FieldType

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: Any) -> timedelta:
    """``30s``, ``5m``, ``1h``, ``250ms``, ``2d`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 1h)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class CompareRule(BaseModel):
    """How one field compares across sources (absent: exact)."""

    model_config = ConfigDict(extra="forbid")

    abs_tol: Decimal = Field(default=Decimal(0), ge=0)
    rel_tol: Decimal = Field(default=Decimal(0), ge=0)
    tol_days: int = Field(default=0, ge=0)
    ignore_case: bool = False
    trim: bool = False
    ignore: bool = False

    @field_validator("abs_tol", "rel_tol", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        # YAML gives floats for 0.01; go through their shortest text so 0.01 stays 0.01.
        return Decimal(repr(value)) if isinstance(value, float) else value


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldType]
    rename: dict[str, str] = Field(default_factory=dict)
    record_id: str | None = None
    date_formats: list[str] = Field(default_factory=list)
    decimal_separator: str = Field(".", description="'.' or ',' in this source's decimal text")
    thousands_separator: str | None = Field(
        ",", description="Between groups of three digits: , . ' space NBSP NNBSP, or null"
    )
    connector: dict[str, Any] | None = None

    @field_validator("thousands_separator", mode="before")
    @classmethod
    def _no_grouping(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _separators(self) -> SourceSpec:
        from streams.values import NumberFormat  # the rules live with the parser

        NumberFormat(self.decimal_separator, self.thousands_separator)  # ValueError: why not
        return self


class Recon(BaseModel):
    """A reconciliation: which sources, joined by which key, compared how."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    key: list[str] = Field(min_length=1)
    sources: dict[str, SourceSpec]
    compare: dict[str, CompareRule] = Field(default_factory=dict)
    ignore: list[str] = Field(default_factory=list)
    match_window: timedelta = timedelta(seconds=30)
    state_retention: timedelta = Field(
        default=timedelta(days=7),
        description="How long the diff keeps a settled key before forgetting its records",
    )
    fx_rates: dict[str, Decimal] = Field(
        default_factory=dict, description="Reference FX rates, e.g. {EURUSD: 1.0850}"
    )
    discriminator: DiscriminatorRules | None = None  # The Discriminator's rules (attribution)
    workflow: WorkflowRules | None = None  # approvals, SLAs, calendar, cut-off (operations)

    @field_validator("key", mode="before")
    @classmethod
    def _key_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("match_window", "state_retention", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return parse_duration(value)

    @field_validator("fx_rates", mode="before")
    @classmethod
    def _exact_rates(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: Decimal(repr(v)) if isinstance(v, float) else v for k, v in value.items()}
        return value

    @field_serializer("match_window", "state_retention")
    def _seconds(self, value: timedelta) -> float:
        return value.total_seconds()

    @model_validator(mode="after")
    def _consistent(self) -> Recon:
        if len(self.sources) < 2:
            raise ValueError("a recon needs two or more sources")
        for name, spec in self.sources.items():
            missing = [k for k in self.key if k not in spec.fields]
            if missing:
                raise ValueError(f"source {name!r} lacks key field(s) {missing}")
            if spec.record_id and spec.record_id not in spec.fields:
                raise ValueError(f"source {name!r}: record_id {spec.record_id!r} is not a field")
        return self

    @property
    def rules(self) -> WorkflowRules:
        """The recon's operations rules (the defaults when it declares none)."""
        return self.workflow or DEFAULT_WORKFLOW

    @property
    def source_names(self) -> list[str]:
        """Sources in declaration order: the first is the left side, the last the right."""
        return list(self.sources)

    def compared_fields(self) -> list[str]:
        """Fields present in every source, neither key nor ignored, in left-source order."""
        left, *others = self.sources.values()
        skip = set(self.key) | set(self.ignore)
        skip |= {f for f, rule in self.compare.items() if rule.ignore}
        skip |= {s.record_id for s in self.sources.values() if s.record_id}
        return [f for f in left.fields if f not in skip and all(f in o.fields for o in others)]

    def field_type(self, field: str) -> FieldType:
        for spec in self.sources.values():
            if field in spec.fields:
                return spec.fields[field]
        raise KeyError(field)

    def rule(self, field: str) -> CompareRule:
        return self.compare.get(field) or CompareRule()

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> Recon:
        return cls.model_validate(json.loads(text))


def load_recon(path: Path) -> Recon:
    """Read a recon YAML file; raises ``ValueError`` with a one-line reason when invalid."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a recon definition is a YAML mapping")
    try:
        return Recon.model_validate(data)
    except Exception as exc:  # pydantic's ValidationError is multi-line; keep the first error
        errors = getattr(exc, "errors", None)
        if callable(errors):
            first = errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"{path}: {where}: {first['msg']}") from exc
        raise ValueError(f"{path}: {exc}") from exc
