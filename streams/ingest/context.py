"""Everything one source's connector needs, wired once: producer, topics, recon, checkpoints,
metrics and progress; and the polling loop of the long-running connectors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from streams.ingest.checkpoint import CheckpointStore
from streams.ingest.metrics import SourceMetrics
from streams.ingest.progress import RowProgress, print_summary
from streams.ingest.publisher import Counts, SourcePublisher
from streams.ingest.pump import Commit, Pump
from streams.kafka import SafeProducer
from streams.recon import Recon
from streams.topics import Topics

log = logging.getLogger("greenai.ingest")
M = TypeVar("M")


class SourceError(RuntimeError):
    """The source cannot be read right now (the message is a one-line reason, no secrets)."""


@dataclass
class SourceContext:
    producer: SafeProducer
    topics: Topics
    recon: Recon
    source: str
    store: CheckpointStore
    metrics: SourceMetrics
    batch_rows: int = 20_000
    batch_seconds: float = 2.0
    progress: bool | None = None  # None: a bar when stderr is a terminal
    report: Callable[[dict[str, Any]], None] = field(default=print_summary)

    @classmethod
    def create(
        cls,
        bootstrap: str,
        prefix: str,
        recon: Recon,
        source: str,
        state_dir: Path,
        **options: Any,
    ) -> SourceContext:
        if source not in recon.sources:
            raise ValueError(
                f"recon {recon.name!r} has no source {source!r} "
                f"(it has {', '.join(recon.source_names)})"
            )
        return cls(
            producer=SafeProducer(bootstrap),
            topics=Topics(prefix),
            recon=recon,
            source=source,
            store=CheckpointStore.for_source(state_dir, prefix, recon.name, source),
            metrics=SourceMetrics(recon.name, source),
            **options,
        )

    def publisher(self) -> SourcePublisher:
        return SourcePublisher(self.producer, self.topics, self.recon, self.source)

    def pump(
        self, commit: Commit[M], label: str, *, initial: int = 0, batch_rows: int | None = None
    ) -> Pump[M]:
        return Pump(
            self.publisher(),
            commit,
            batch_rows=batch_rows or self.batch_rows,
            batch_seconds=self.batch_seconds,
            metrics=self.metrics,
            progress=RowProgress(label, enabled=self.progress, initial=initial),
        )

    def summary(
        self, counts: Counts, seconds: float, *, rows_now: int | None = None, **about: Any
    ) -> dict[str, Any]:
        """The JSON summary of one unit; ``rows_now`` are the rows of this run, for the rate
        (``counts`` may include a resumed run's rows)."""
        rows = counts.read if rows_now is None else rows_now
        return {
            "recon": self.recon.name,
            "source": self.source,
            **about,
            **counts.as_dict(),
            "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds) if seconds > 0 else 0,
        }


class Connector(Protocol):
    def poll(self, ctx: SourceContext, *, once: bool) -> None:
        """One pass: publish everything new at the source, checkpointed."""


def poll_forever(ctx: SourceContext, connector: Connector, interval: float, once: bool) -> None:
    """Pass after pass, ``interval`` seconds apart; with ``once`` a single pass.

    A source that cannot be read (``SourceError``) is retried on the next pass; anything
    else (Kafka not acknowledging, a bug) ends the process: the checkpoints make the restart
    resume where the last acknowledged batch ended.
    """
    while True:
        ctx.metrics.pass_started()
        try:
            connector.poll(ctx, once=once)
        except SourceError as exc:
            if once:
                raise
            log.warning("%s/%s: %s (retrying in %.0fs)", ctx.recon.name, ctx.source, exc, interval)
        else:
            ctx.metrics.pass_complete()
        if once:
            return
        time.sleep(interval)
