"""A watched directory: every complete file dropped there is published once.

Completeness follows the rule in ``streams.ingest.settle`` (a ``.done`` marker, or a stable
size across two scans). Each file is checkpointed by path, size and content hash
(``streams.ingest.drops``), so a file is processed once, also across restarts, and a file
interrupted by a crash resumes after its last acknowledged row. A file whose content changes
after it was processed is a new version and is processed again.
"""

from __future__ import annotations

import time
from pathlib import Path

from streams.ingest.context import SourceContext, SourceError
from streams.ingest.drops import file_entry, file_version, ingest_file, is_done
from streams.ingest.settle import Listed, Settling


class DirectoryWatch:
    def __init__(
        self,
        directory: Path,
        *,
        pattern: str = "*",
        done_marker: bool = False,
        settle: float = 2.0,
    ) -> None:
        self.directory = directory
        self.pattern = pattern
        self.settling = Settling(settle, done_marker)

    def _list(self) -> list[Listed]:
        try:
            entries = list(self.directory.iterdir())
        except OSError as exc:
            raise SourceError(f"cannot list {self.directory}: {exc.strerror or exc}") from exc
        listed = []
        for path in entries:
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed between listing and stat
                continue
            if path.is_file():
                listed.append(Listed(path.name, stat.st_size, stat.st_mtime_ns))
        return listed

    def _pending(self, ctx: SourceContext, entries: list[Listed]) -> list[Listed]:
        return [
            e
            for e in entries
            if not is_done(
                ctx, file_entry(str((self.directory / e.name).absolute())), e.size, e.stamp
            )
        ]

    def poll(self, ctx: SourceContext, *, once: bool) -> None:
        ready, waiting = self.settling.split(self._list(), self.pattern)
        if once and self._pending(ctx, waiting) and not self.settling.done_marker:
            time.sleep(self.settling.settle)  # a single pass still needs its second scan
            ready, waiting = self.settling.split(self._list(), self.pattern)
        todo = self._pending(ctx, ready)
        still_written = len(self._pending(ctx, waiting))
        ctx.metrics.backlog(len(todo) + still_written)
        for left, entry in enumerate(todo, start=1):
            path = self.directory / entry.name
            try:
                summary = ingest_file(ctx, path, version=file_version(path), skip_done=True)
            except FileNotFoundError:
                continue  # removed meanwhile: nothing to publish
            if summary is not None:
                ctx.report(summary | {"file": str(path)})
            ctx.metrics.backlog(len(todo) - left + still_written)
