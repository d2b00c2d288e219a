"""What an analyst does to attribution — label a break, reverse a decision, roll the model
back — shared by the CLI and the API.

Each action is first published to the feedback topic (durably: every attribution worker
learns from it and keeps it for later versions of the break), then applied to the stored
break and its decision in PostgreSQL so the dashboard shows it at once. A label re-runs the
Discriminator with the analyst's cause at full confidence: when that changes the automatic
disposition, the decision is marked reversed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from streams.attribution import decisions, versions
from streams.attribution.discriminator import decide
from streams.attribution.features import extract
from streams.attribution.feedback import (
    BadFeedback,
    check_cause,
    check_disposition,
    event_key,
    feedback_codec,
    label_event,
    reverse_event,
    rollback_event,
)
from streams.database import load_recons
from streams.kafka import SafeProducer
from streams.recon import Recon
from streams.settings import Settings
from streams.topics import Topics

BREAK_COLUMNS = "break_id, recon, kind, missing_in, fields, records, cause, disposition, version"


@dataclass(frozen=True)
class Outcome:
    break_id: str
    cause: str | None
    disposition: str | None
    reversed: bool  # an automatic disposition was changed
    previous_cause: str | None
    previous_disposition: str | None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class Planned:
    event: dict[str, Any]
    outcome: Outcome
    priority: int | None
    decided_version: int | None  # the decision row it reverses


def plan_label(
    row: dict[str, Any],
    recon: Recon,
    latest: dict[str, Any] | None,
    cause: str,
    *,
    analyst: str,
    origin: str,
    disposition: str | None = None,
    reason: str | None = None,
) -> Planned:
    """The feedback event and the new state of a break an analyst labels (pure)."""
    event = label_event(
        row,
        recon.source_names,
        recon.fx_rates,
        cause,
        analyst=analyst,
        origin=origin,
        disposition=disposition,
        reason=reason,
    )
    anomaly = float(latest["anomaly"]) if latest else 0.0
    redo = decide(
        extract(row, recon.source_names),
        cause,
        1.0,
        anomaly=anomaly,
        rules=recon.discriminator,
        fx_rates=recon.fx_rates,
    )
    new = disposition or redo.disposition
    changed = row.get("disposition") is not None and new != row["disposition"]
    outcome = Outcome(
        row["break_id"], cause, new, changed, row.get("cause"), row.get("disposition")
    )
    return Planned(event, outcome, redo.priority, latest["version"] if latest else None)


def plan_reverse(
    row: dict[str, Any],
    latest: dict[str, Any] | None,
    disposition: str,
    *,
    analyst: str,
    origin: str,
    reason: str | None,
) -> Planned:
    event = reverse_event(row, disposition, analyst=analyst, origin=origin, reason=reason)
    changed = row.get("disposition") != disposition
    outcome = Outcome(
        row["break_id"],
        row.get("cause"),
        disposition,
        changed,
        row.get("cause"),
        row.get("disposition"),
    )
    return Planned(event, outcome, None, latest["version"] if latest else None)


class Analyst:
    """Feedback from one analyst (CLI or API) to the stack that ``settings`` names."""

    def __init__(self, settings: Settings, analyst: str, origin: str) -> None:
        self.settings = settings
        self.analyst = analyst
        self.origin = origin
        self.topics = Topics(settings.topic_prefix)

    def label(
        self,
        labels: list[tuple[str, str]],
        *,
        disposition: str | None = None,
        reason: str | None = None,
    ) -> list[Outcome]:
        """Label breaks ``[(break_id, cause)]``: all are checked before any is published."""
        for _, cause in labels:
            check_cause(cause)
        if disposition:
            check_disposition(disposition)
        with psycopg.connect(self.settings.database(), row_factory=dict_row) as conn:
            rows = self._rows(conn, [b for b, _ in labels])
            recons = load_recons(self.settings.database())
            plans = []
            for break_id, cause in labels:
                row = rows[break_id]
                recon = _recon_of(recons, row)
                plans.append(
                    plan_label(
                        row,
                        recon,
                        decisions.latest(conn, break_id),
                        cause,
                        analyst=self.analyst,
                        origin=self.origin,
                        disposition=disposition,
                        reason=reason,
                    )
                )
            self._publish([p.event for p in plans])
            with conn.transaction():
                for p in plans:
                    self._store(conn, p, label=True)
        return [p.outcome for p in plans]

    def reverse(self, break_id: str, disposition: str, reason: str | None = None) -> Outcome:
        """Override the disposition of a break (the workers keep it for its later versions)."""
        check_disposition(disposition)
        with psycopg.connect(self.settings.database(), row_factory=dict_row) as conn:
            row = self._rows(conn, [break_id])[break_id]
            plan = plan_reverse(
                row,
                decisions.latest(conn, break_id),
                disposition,
                analyst=self.analyst,
                origin=self.origin,
                reason=reason,
            )
            self._publish([plan.event])
            with conn.transaction():
                self._store(conn, plan, label=False)
        return plan.outcome

    def rollback(self, version: int, reason: str | None = None) -> None:
        """Return every worker's model to ``version`` (labels since are no longer in it)."""
        if not versions.exists(self.settings.database(), version):
            raise BadFeedback(f"no model version {version} (see `greenai model versions`)")
        event = rollback_event(version, analyst=self.analyst, origin=self.origin, reason=reason)
        self._publish([event])

    def _rows(
        self, conn: psycopg.Connection[Any], break_ids: list[str]
    ) -> dict[str, dict[str, Any]]:
        found = {
            r["break_id"]: r
            for r in conn.execute(
                f"SELECT {BREAK_COLUMNS} FROM breaks WHERE break_id = ANY(%s)", [break_ids]
            ).fetchall()
        }
        missing = [b for b in break_ids if b not in found]
        if missing:
            raise BadFeedback(
                f"no break {missing[0]}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        return found

    def _publish(self, events: list[dict[str, Any]]) -> None:
        producer = SafeProducer(self.settings.kafka())
        codec = feedback_codec()
        for event in events:
            producer.send(self.topics.feedback, event_key(event), codec.encode(event))
        producer.flush()

    def _store(self, conn: psycopg.Connection[Any], plan: Planned, *, label: bool) -> None:
        out = plan.outcome
        if label:
            evidence = [{"feature": "analyst_label", "value": self.analyst, "weight": 1.0}]
            conn.execute(
                """
                UPDATE breaks SET cause = %s, confidence = 1.0, explanation = %s,
                       disposition = %s, priority = COALESCE(%s, priority),
                       seq = nextval('break_changes')
                 WHERE break_id = %s
                """,
                [out.cause, Jsonb(evidence), out.disposition, plan.priority, out.break_id],
            )
        else:
            conn.execute(
                "UPDATE breaks SET disposition = %s, seq = nextval('break_changes') "
                "WHERE break_id = %s",
                [out.disposition, out.break_id],
            )
        if out.reversed and plan.decided_version is not None and out.disposition:
            why = plan.event.get("reason") or (
                f"labelled {out.cause}" if label else f"reversed to {out.disposition}"
            )
            decisions.mark_reversed(
                conn, out.break_id, plan.decided_version, out.disposition, self.analyst, why
            )


def _recon_of(recons: dict[str, tuple[int, Recon]], row: dict[str, Any]) -> Recon:
    found = recons.get(row["recon"])
    if found is None:
        raise BadFeedback(f"break {row['break_id']}: recon {row['recon']!r} is not registered")
    return found[1]
