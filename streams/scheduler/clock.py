"""What time the scheduler thinks it is: the real time, or — for tests and rehearsals of a
cut-off — the instant written in a file (``GREENAI_SCHEDULER_CLOCK``), read at every tick.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "now"
>>> _ = path.write_text("2026-12-07T17:31:00+00:00")
>>> FileClock(path).now().isoformat()
'2026-12-07T17:31:00+00:00'
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FileClock:
    """The instant in ``path`` (ISO 8601 with an offset); the real time while it is absent."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return datetime.now(UTC)
        at = datetime.fromisoformat(text)
        if at.tzinfo is None:
            raise ValueError(f"{self.path}: {text!r} has no UTC offset")
        return at


def clock(path: str | None) -> Clock:
    return FileClock(Path(path)) if path else SystemClock()
