"""The attribution engine (pure): a Break in; the attributed Break and its decision out.

Features → rules + learned model → anomaly score → the Discriminator, with the analysts'
overrides on top. No Kafka and no SQL: the worker, the benchmark and the tests drive it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from typing import Any

from streams.attribution.decisions import DecisionRecord
from streams.attribution.discriminator import Decision, decide, materiality
from streams.attribution.features import extract
from streams.attribution.learner import Learner
from streams.attribution.rules import Attribution, Evidence
from streams.domain.discriminator_rules import DEFAULT_RULES
from streams.domain.workflow import auto_closed
from streams.domain.workflow_rules import DEFAULT_WORKFLOW
from streams.recon import Recon

UNATTRIBUTED = "UNKNOWN"
PRECISION = 60  # decimal digits: room for any amount a connector admits, converted and quantized


@dataclass(frozen=True)
class Attributed:
    datum: dict[str, Any]  # the Break datum with cause .. priority filled in
    decision: DecisionRecord


@dataclass(frozen=True)
class Said:
    """What people said of a break, over the model: a cause, a disposition, and who."""

    cause: str | None = None
    cause_by: str = ""
    disposition: str | None = None
    disposition_by: str = ""
    reason: str | None = None


class Engine:
    def __init__(self, learner: Learner | None = None) -> None:
        self.learner = learner or Learner()

    def process(self, brk: dict[str, Any], recon: Recon | None) -> Attributed:
        """Attribute one break. A break the model cannot take (values beyond what its
        arithmetic handles, say) still flows on, never stopping the worker: cause UNKNOWN,
        queued for an analyst at the top priority, the error as its explanation."""
        try:
            with localcontext(prec=PRECISION):
                return self._attribute(brk, recon)
        except (ArithmeticError, ValueError, TypeError, KeyError, IndexError) as exc:
            return self._unattributed(brk, f"{type(exc).__name__}: {exc}"[:200])

    def _attribute(self, brk: dict[str, Any], recon: Recon | None) -> Attributed:
        sources = recon.source_names if recon else sorted(brk["records"])
        rates = recon.fx_rates if recon else {}
        rules = (recon.discriminator if recon else None) or DEFAULT_RULES
        f = extract(brk, sources)
        found, v = self.learner.attributor.attribute(f, rates)
        said = self._said(brk)
        decided_by = "model"
        if said.cause:
            found = Attribution(said.cause, 1.0, (Evidence("analyst_label", said.cause_by, 1.0),))
            decided_by = "analyst"
        money = materiality(f, rates, rules.reporting_currency)
        part = self.learner.part
        score = part.anomaly.score(v) if brk["status"] == "OPEN" else 0.0
        decision = decide(
            f,
            found.cause,
            found.confidence,
            anomaly=score,
            rules=rules,
            fx_rates=rates,
            money=money,
        )
        if said.disposition:
            decision = Decision(
                said.disposition,
                decision.priority,
                decision.materiality,
                (f"set by {said.disposition_by}",),
            )
            decided_by = "scheduler" if said.disposition_by == "scheduler" else "analyst"
        operations = recon.rules if recon else DEFAULT_WORKFLOW
        datum = brk | {
            "cause": found.cause,
            "confidence": found.confidence,
            "explanation": [e._asdict() for e in found.explanation],
            "disposition": decision.disposition,
            "priority": decision.priority,
            "materiality": format(decision.materiality, "f"),
            "due": operations.due(brk["first_seen"], found.cause),
        }
        if auto_closed(brk["status"], bool(brk.get("keep_open")), decision.disposition):
            datum |= {
                "status": "CLOSED",
                "close_reason": f"auto:{found.cause}",
                "closed_at": brk["updated_at"],
            }
        record = DecisionRecord(
            break_id=brk["break_id"],
            version=brk["version"],
            recon=brk["recon"],
            cause=found.cause,
            confidence=found.confidence,
            disposition=decision.disposition,
            priority=decision.priority,
            materiality=decision.materiality,
            anomaly=round(score, 4),
            decided_by=decided_by,
            model_offset=self.learner.next_offset,
            reasons=decision.reasons,
            overruled_by=(said.disposition_by or said.cause_by) if decided_by != "model" else None,
            overrule_reason=said.reason,
        )
        return Attributed(datum, record)

    def _said(self, brk: dict[str, Any]) -> Said:
        """The people's word on a break: its own workflow's (an analyst's label or reversal,
        the scheduler's escalation), else a label the model folded from the feedback log."""
        cause, disposition = brk.get("analyst_cause"), brk.get("analyst_disposition")
        held = self.learner.overrides.get(brk["break_id"])
        said = Said()
        if held is not None:
            said = Said(held.cause, held.analyst, held.disposition, held.analyst)
        if cause:
            said = replace(said, cause=cause["value"], cause_by=cause["by"], reason=cause["reason"])
        if disposition:
            said = replace(
                said,
                disposition=disposition["value"],
                disposition_by=disposition["by"],
                reason=disposition["reason"] or said.reason,
            )
        return said

    def _unattributed(self, brk: dict[str, Any], reason: str) -> Attributed:
        evidence = Evidence("attribution_error", reason, 1.0)
        datum = brk | {
            "cause": UNATTRIBUTED,
            "confidence": 0.0,
            "explanation": [evidence._asdict()],
            "disposition": "QUEUE",
            "priority": 1,
        }
        record = DecisionRecord(
            break_id=brk["break_id"],
            version=brk["version"],
            recon=brk["recon"],
            cause=UNATTRIBUTED,
            confidence=0.0,
            disposition="QUEUE",
            priority=1,
            materiality=Decimal(0),
            anomaly=0.0,
            decided_by="model",
            model_offset=self.learner.next_offset,
            reasons=(f"attribution failed: {reason}",),
        )
        return Attributed(datum, record)
