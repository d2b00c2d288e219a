"""Restarting the children of ``greenai up``: backoff over a sliding window, and why.

A child that exits is restarted after a delay that doubles with each exit inside the
window (``first`` .. ``cap`` seconds) and falls back to ``first`` once the child has run
for ``window`` seconds without exiting. The supervisor never gives up on a child: a stack
that stops itself because one worker crashed five times in a day is worse than one that
keeps trying. A child that keeps failing is said to be failing, with the reason it gave.

>>> policy = RestartPolicy(first=1.0, cap=8.0, window=60.0, failing_after=3)
>>> [policy.exited("diff", at=t) for t in (0.0, 1.0, 3.0, 7.0)]
[1.0, 2.0, 4.0, 8.0]
>>> policy.failing("diff", at=7.0)
True
>>> policy.exited("diff", at=500.0)   # ran for minutes: the window forgot the old exits
1.0
"""

from __future__ import annotations

import json
import re
import signal
from collections import defaultdict, deque
from pathlib import Path

TAIL_BYTES = 64 * 1024
_ERROR_LINE = re.compile(r"(Error|Exception|error|CRITICAL|Killed|refused|unreachable)")


class RestartPolicy:
    def __init__(
        self,
        first: float = 1.0,
        cap: float = 30.0,
        window: float = 120.0,
        failing_after: int = 5,
    ) -> None:
        self.first = first
        self.cap = cap
        self.window = window
        self.failing_after = failing_after
        self._exits: defaultdict[str, deque[float]] = defaultdict(deque)

    def exited(self, name: str, at: float) -> float:
        """Record an exit of ``name`` at ``at`` (monotonic seconds); the delay to restart."""
        exits = self._exits[name]
        exits.append(at)
        while exits and at - exits[0] > self.window:
            exits.popleft()
        return min(self.first * 2 ** (len(exits) - 1), self.cap)

    def failing(self, name: str, at: float) -> bool:
        """Whether ``name`` exited ``failing_after`` times or more inside the window."""
        exits = self._exits[name]
        return sum(1 for t in exits if at - t <= self.window) >= self.failing_after

    def recent_exits(self, name: str) -> int:
        return len(self._exits[name])


def exit_reason(code: int, log_path: Path) -> str:
    """Why a child exited, in one line: the signal that killed it, or the last error its log
    shows."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    line = last_error(log_path)
    return f"exit code {code}" + (f": {line}" if line else "")


def last_error(log_path: Path) -> str | None:
    """The last line of the log that reads like an error (a traceback's final line, an
    ERROR record), trimmed; None when there is none."""
    try:
        with log_path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for line in reversed(tail):
        text = line.strip()
        if text.startswith("{"):  # a JSON log line (streams/logs.py)
            said = _json_error(text)
            if said:
                return said[:300]
        elif text and not line.startswith((" ", "\t")) and _ERROR_LINE.search(text):
            return text[:300]
    return None


def _json_error(text: str) -> str | None:
    """An error record's last traceback line (the exception itself), else its message."""
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("level") not in ("error", "critical"):
        return None
    failure = [x for x in str(record.get("exception") or "").splitlines() if x.strip()]
    return failure[-1].strip() if failure else str(record.get("message", ""))
