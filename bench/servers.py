"""Servers for a benchmark run: those the environment names, or a local stack under a temp home."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from greenai.localstack import LocalServers, ServerUrls


@contextmanager
def bench_servers() -> Iterator[ServerUrls]:
    home = Path(os.environ.get("GREENAI_BENCH_HOME") or tempfile.mkdtemp(prefix="greenai-bench-"))
    # PLAINTEXT Kafka: SCRAM costs only at connect, and the bench's clients stay simple
    with LocalServers.from_environ(home, kafka_sasl=False) as urls:
        yield urls
