"""One dropped file (local, or fetched from S3/FTP) into Kafka, checkpointed by path, size
and content hash.

The entry of a file records its size, SHA-256, how many rows are acknowledged and whether it
is done. A rerun of the same content resumes after the acknowledged rows (rows between the
last checkpoint and a crash are published again: an identical record is an amendment with
no change downstream). Different content under the same name is a new version of the file
and is read from its first row.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams import tracing
from streams.ingest.checkpoint import entry_name
from streams.ingest.context import SourceContext
from streams.ingest.files import RawRow, read_file, reader_for
from streams.ingest.publisher import Counts

HASH_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(identity: str) -> str:
    return entry_name("file", identity)


def is_done(ctx: SourceContext, name: str, size: int, version: Any) -> bool:
    """Cheap check without reading the content: done with this size and version (mtime,
    ETag, MDTM) already."""
    entry = ctx.store.get(name)
    return bool(
        entry and entry.get("done") and entry["size"] == size and entry.get("version") == version
    )


TRACER = tracing.tracer(__name__)


def ingest_file(
    ctx: SourceContext,
    path: Path,
    *,
    label: str | None = None,
    identity: str | None = None,
    name: str | None = None,
    version: Any = None,
    skip_done: bool = False,
) -> dict[str, Any] | None:
    """Publish a file's rows (resuming an unfinished run of the same content) and return its
    summary; ``None`` when ``skip_done`` and this content is done already.

    ``identity`` names the file across runs (default: its absolute path), ``label`` in
    locations (default: its file name), ``version`` is the cheap change stamp kept for
    ``is_done``.
    """
    with TRACER.start_as_current_span(
        "ingest.file",
        attributes={"recon": ctx.recon.name, "source": ctx.source, "file": path.name},
    ):
        return _ingest_file(ctx, path, label, identity, name, version, skip_done)


def _ingest_file(
    ctx: SourceContext,
    path: Path,
    label: str | None,
    identity: str | None,
    name: str | None,
    version: Any,
    skip_done: bool,
) -> dict[str, Any] | None:
    started = time.perf_counter()
    identity = identity or str(path.absolute())
    name = name or file_entry(identity)
    label = label or path.name
    reader_for(label)  # an unsupported type fails before the file is hashed
    size = path.stat().st_size
    digest = sha256_of(path)
    entry = ctx.store.get(name)
    same = bool(entry and entry["size"] == size and entry["sha256"] == digest)
    if same and entry and entry["done"] and skip_done:
        if entry.get("version") != version:  # e.g. touched or re-uploaded, same content
            ctx.store.put(name, entry | {"version": version})
        return None
    resume = same and entry is not None and not entry["done"]
    start = int(entry["rows"]) if resume and entry else 0
    base = Counts(**entry["counts"]) if resume and entry else Counts()

    def commit(mark: int | None, counts: Counts, done: bool) -> None:
        total = _add(base, counts)
        ctx.store.put(
            name,
            {
                "identity": identity,
                "size": size,
                "sha256": digest,
                "version": version,
                "rows": mark if mark is not None else start,
                "counts": total.as_dict(),
                "done": done,
                "at": datetime.now(UTC).isoformat(),
            },
        )

    pump = ctx.pump(commit, label, initial=start)
    try:
        counts = pump.run(_numbered(read_file(path, label), start))
    finally:
        if pump.progress is not None:
            pump.progress.close()
    total = _add(base, counts)
    seconds = time.perf_counter() - started
    summary = ctx.summary(total, seconds, rows_now=counts.read, file=label)
    if start:
        summary["resumed_after_row"] = start
    return summary


def _numbered(rows: Iterator[RawRow], start: int) -> Iterator[tuple[RawRow | None, int | None]]:
    for number, raw in itertools.islice(enumerate(rows, start=1), start, None):
        yield raw, number


def _add(a: Counts, b: Counts) -> Counts:
    return Counts(a.read + b.read, a.published + b.published, a.dead_lettered + b.dead_lettered)


def file_version(path: Path) -> int:
    """The cheap change stamp of a local file: its modification time in nanoseconds."""
    return os.stat(path).st_mtime_ns
