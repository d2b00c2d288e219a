"""When a dropped file is complete: the partial-file rule shared by directories and FTP.

A file is ready when

* ``done_marker`` is on: a marker ``NAME.done`` exists beside it (the marker itself is never
  read as data); or otherwise
* its size and modification stamp are unchanged across two listings at least ``settle``
  seconds apart.

Names that writers use while a file is in progress are never candidates: hidden files
(``.name``), and ``*.tmp``, ``*.part``, ``*.partial``, ``*.filepart``, ``*.crdownload``,
``*~``. Only supported data files (``.csv``, ``.jsonl``, ``.ndjson``, ``.parquet``) that
match the connector's glob ``pattern`` are candidates.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from streams.ingest.files import READERS

MARKER = ".done"
IN_PROGRESS = (".tmp", ".part", ".partial", ".filepart", ".crdownload", "~")


@dataclass(frozen=True)
class Listed:
    name: str
    size: int
    stamp: Any  # mtime, MDTM ...: anything that changes when the file does


def is_candidate(name: str, pattern: str) -> bool:
    lower = name.lower()
    return (
        not name.startswith(".")
        and not lower.endswith(IN_PROGRESS)
        and any(lower.endswith(suffix) for suffix in READERS)
        and fnmatch.fnmatchcase(name, pattern)
    )


class Settling:
    """Remembers listings to tell complete files from files still being written."""

    def __init__(self, settle: float, done_marker: bool = False) -> None:
        self.settle = settle
        self.done_marker = done_marker
        self._seen: dict[str, tuple[int, Any, float]] = {}

    def split(
        self, listing: Iterable[Listed], pattern: str, now: float | None = None
    ) -> tuple[list[Listed], list[Listed]]:
        """``(ready, waiting)`` among the candidates of one listing, oldest name first."""
        now = time.monotonic() if now is None else now
        entries = list(listing)
        names = {e.name for e in entries}
        ready: list[Listed] = []
        waiting: list[Listed] = []
        seen: dict[str, tuple[int, Any, float]] = {}
        for entry in sorted(entries, key=lambda e: e.name):
            if not is_candidate(entry.name, pattern):
                continue
            if self.done_marker:
                (ready if entry.name + MARKER in names else waiting).append(entry)
                continue
            size, stamp, since = self._seen.get(entry.name, (-1, None, now))
            if (size, stamp) != (entry.size, entry.stamp):
                since = now
            seen[entry.name] = (entry.size, entry.stamp, since)
            unchanged_for = now - since
            if (size, stamp) == (entry.size, entry.stamp) and unchanged_for >= self.settle:
                ready.append(entry)
            else:
                waiting.append(entry)
        if not self.done_marker:
            self._seen = seen
        return ready, waiting
