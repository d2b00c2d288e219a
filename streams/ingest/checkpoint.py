"""Connector checkpoints: one small JSON document per entry under GREENAI_HOME, written
atomically (temp file, fsync, rename), so a SIGKILL leaves either the old or the new one.

Layout: ``$GREENAI_HOME/state/ingest/<topic prefix>/<recon>/<source>/<entry>.json``, where
an entry is one file or object (``file-…``, ``s3-…``, ``ftp-…``) or one stream position
(``sql``, ``http``). A connector writes an entry only after the producer flushed every record
before it, so the checkpoint never runs ahead of what Kafka acknowledged.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class SourceBusy(RuntimeError):
    """Another connector process holds this source's checkpoints."""


def entry_name(kind: str, identity: str) -> str:
    """A file-system safe, stable entry name for e.g. ``("s3", "s3://bucket/key")``."""
    return f"{kind}-{hashlib.sha1(identity.encode()).hexdigest()[:24]}"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", part) or "_"


class CheckpointStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_source(cls, state_dir: Path, prefix: str, recon: str, source: str) -> CheckpointStore:
        return cls(state_dir / "ingest" / _safe(prefix) / _safe(recon) / _safe(source))

    def _path(self, name: str) -> Path:
        return self.root / f"{_safe(name)}.json"

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(name).read_text())
        except FileNotFoundError:
            return None
        return data if isinstance(data, dict) else None

    def put(self, name: str, data: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("w") as handle:
            json.dump(data, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def exclusive(self, what: str) -> Iterator[None]:
        """Hold the source for one long-running connector (released even by SIGKILL)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f"{_safe(what)}.lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SourceBusy(
                    f"another connector is already running {what} for this source"
                ) from None
            yield
