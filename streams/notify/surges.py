"""Dead-letter surges (pure): when a recon's dead letters within one window of time reach a
threshold, that is one alert, ``DEAD_LETTER_SURGE``, with a deterministic id — so the watch
can be rebuilt from the topic after a restart and raise the same alert again, which the
subscribers' once-per-``alert_id`` delivery absorbs. Windows are fixed (aligned on the epoch)
and follow the dead letters' own ``at`` (a letter up to two windows late still counts in
its own); the notifier's own dead letters do not count.

>>> from datetime import UTC, datetime, timedelta
>>> watch = SurgeWatch(threshold=3, window=timedelta(minutes=5))
>>> t = datetime(2026, 12, 3, 9, 1, tzinfo=UTC)
>>> letter = {"recon": "trades", "source": "ledger", "stage": "ingest",
...           "location": "ledger.csv:7", "reason": "amount: not a decimal", "at": t}
>>> watch.observe(letter), watch.observe(letter | {"at": t + timedelta(seconds=30)})
(None, None)
>>> surge = watch.observe(letter | {"location": "ledger.csv:9"})
>>> surge_start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
>>> surge["alert_id"], surge["kind"], surge["severity"], surge["recon"]
('dead-letter-surge@trades/2026-12-03T09:00:00+00:00', 'DEAD_LETTER_SURGE', 'WARNING', 'trades')
>>> surge["message"]
'3 records of trades dead-lettered between 09:00 and 09:05 UTC (ingest: 3)'
>>> watch.observe(letter) is None  # one alert per recon, window and severity
True
>>> [watch.observe(letter) for _ in range(26)][-1]["alert_id"]  # ten times the threshold
'dead-letter-surge@trades/2026-12-03T09:00:00+00:00/critical'
>>> watch.observe(letter | {"at": t + timedelta(minutes=5)}) is None  # the next window
True
>>> late = [watch.observe(letter | {"location": "late"}) for _ in range(30)]  # still counted
>>> watch._windows["trades"][surge_start].count
60
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.alerts import alert

KIND = "DEAD_LETTER_SURGE"
OWN_STAGE = "notify"  # the notifier's own dead letters (undeliverable alerts) do not count


@dataclass
class Window:
    start: datetime
    stages: Counter[str] = field(default_factory=Counter)
    raised: set[str] = field(default_factory=set)  # the severities alerted already

    @property
    def count(self) -> int:
        return sum(self.stages.values())


@dataclass
class SurgeWatch:
    threshold: int
    window: timedelta
    critical_factor: int = 10  # this many times the threshold: CRITICAL
    kept: int = 3  # windows kept per recon: letters this late still count
    _windows: dict[str, dict[datetime, Window]] = field(default_factory=dict)

    def observe(self, letter: dict[str, Any]) -> dict[str, Any] | None:
        """Count one DeadLetter datum; the Alert datum it completes, if any."""
        if letter.get("stage") == OWN_STAGE:
            return None
        recon, at = letter.get("recon") or "", letter["at"]
        start = self._start_of(at)
        windows = self._windows.setdefault(recon, {})
        current = windows.get(start)
        if current is None:
            if windows and start < min(windows) and len(windows) >= self.kept:
                return None  # older than every window kept: too late to count
            current = windows[start] = Window(start)
            for old in sorted(windows)[: -self.kept]:
                del windows[old]
        current.stages[letter.get("stage") or "ingest"] += 1
        severity = (
            "CRITICAL"
            if current.count >= self.threshold * self.critical_factor
            else "WARNING"
            if current.count >= self.threshold
            else None
        )
        if severity is None or severity in current.raised:
            return None
        current.raised.add(severity)
        return self._alert(recon, current, letter, severity)

    def _start_of(self, at: datetime) -> datetime:
        seconds = self.window.total_seconds()
        epoch = at.timestamp() // seconds * seconds
        return datetime.fromtimestamp(epoch, UTC)

    def _alert(
        self, recon: str, window: Window, last: dict[str, Any], severity: str
    ) -> dict[str, Any]:
        end = window.start + self.window
        stages = ", ".join(f"{s}: {n}" for s, n in sorted(window.stages.items()))
        about = recon or "no recon"
        suffix = "/critical" if severity == "CRITICAL" else ""
        return alert(
            f"dead-letter-surge@{recon or '*'}/{window.start.isoformat()}{suffix}",
            KIND,
            severity,
            "notify",
            f"{window.count} records of {about} dead-lettered between "
            f"{window.start:%H:%M} and {end:%H:%M} UTC ({stages})",
            recon=recon or None,
            details={
                "count": window.count,
                "window_start": window.start.isoformat(),
                "window_seconds": int(self.window.total_seconds()),
                "last_location": last.get("location", ""),
                "last_reason": str(last.get("reason", ""))[:500],
            },
            at=last["at"],
        )
