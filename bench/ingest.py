"""The CSV ingest benchmark: rows/s through ``greenai ingest file``'s code path (hash, read,
validate, Avro-encode, publish, flush and checkpoint every batch) beside a bare
confluent-kafka produce loop of the same CSV lines with the same producer settings, on the
same broker in the same run.

``python -m bench.ingest [ROWS]`` runs it on KAFKA_BOOTSTRAP_SERVERS, or on a Kafka broker it
starts under a temporary GREENAI_HOME.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from streams.ingest.context import SourceContext
from streams.ingest.drops import ingest_file
from streams.ingest.synthetic import TradeGenerator
from streams.recon import load_recon
from streams.topics import ensure_topics

ROOT = Path(__file__).resolve().parent.parent
RECON = ROOT / "examples" / "demo" / "trades.yaml"
PRODUCER = {  # SafeProducer's settings, so the baseline differs only by greenai's work
    "enable.idempotence": True,
    "acks": "all",
    "partitioner": "murmur2_random",
    "linger.ms": 20,
    "compression.type": "lz4",
}


def write_csv(path: Path, rows: int, seed: int = 1) -> Path:
    generator = TradeGenerator(seed=seed, break_rate=0.0)
    with path.open("w", newline="") as handle:
        first = generator.trade()
        writer = csv.DictWriter(handle, fieldnames=list(first))
        writer.writeheader()
        writer.writerow(first)
        for _ in range(rows - 1):
            writer.writerow(generator.trade())
    return path


def bare_produce(bootstrap: str, topic: str, path: Path) -> tuple[int, float]:
    """Produce every CSV line (key: its trade_id) with a plain Producer; (rows, seconds)."""
    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER})
    failures: list[Any] = []

    def report(err: Any, _msg: Any) -> None:
        if err is not None:
            failures.append(err)

    rows = 0
    started = time.perf_counter()
    with path.open("rb") as handle:
        next(handle)
        for line in handle:
            key = line.split(b",", 2)[1]
            while True:
                try:
                    producer.produce(topic, value=line, key=key, on_delivery=report)
                    break
                except BufferError:
                    producer.poll(0.1)
            producer.poll(0)
            rows += 1
    remaining = producer.flush(60)
    seconds = time.perf_counter() - started
    if remaining or failures:
        raise RuntimeError(f"bare produce: {remaining} unacknowledged, {len(failures)} failed")
    return rows, seconds


def run(bootstrap: str, rows: int = 200_000) -> dict[str, Any]:
    """Measure both paths on ``bootstrap``; prints and returns rows/s and their ratio."""
    prefix = f"bench_ingest_{uuid.uuid4().hex[:6]}"
    bare_topic = f"{prefix}.bare"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    ensure_topics(bootstrap, prefix)
    admin.create_topics([NewTopic(bare_topic, num_partitions=4, replication_factor=1)])[
        bare_topic
    ].result()
    try:
        with tempfile.TemporaryDirectory(prefix="greenai-bench-ingest-") as tmp:
            path = write_csv(Path(tmp) / "ledger.csv", rows)
            bare_rows, bare_seconds = bare_produce(bootstrap, bare_topic, path)
            ctx = SourceContext.create(
                bootstrap,
                prefix,
                load_recon(RECON),
                "ledger",
                Path(tmp) / "state",
                progress=False,
                report=lambda _summary: None,
            )
            started = time.perf_counter()
            summary = ingest_file(ctx, path)
            seconds = time.perf_counter() - started
        assert summary is not None and summary["published"] == rows == bare_rows, summary
    finally:
        topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix + ".")]
        for future in admin.delete_topics(topics).values():
            future.result()
    result = {
        "rows": rows,
        "ingest_rows_per_s": round(rows / seconds),
        "bare_produce_rows_per_s": round(bare_rows / bare_seconds),
        "ratio": round((rows / seconds) / (bare_rows / bare_seconds), 3),
    }
    print(
        f"CSV ingest ({rows} rows, greenai ingest file path): "
        f"{result['ingest_rows_per_s']:,} rows/s; bare confluent-kafka produce: "
        f"{result['bare_produce_rows_per_s']:,} rows/s; ratio {result['ratio']:.3f}"
    )
    print(json.dumps({"bench": "ingest", **result}))
    return result


@contextmanager
def kafka_bootstrap() -> Iterator[str]:
    """KAFKA_BOOTSTRAP_SERVERS, or a broker started under a temporary GREENAI_HOME."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    from greenai.localstack import LocalServers

    with (
        tempfile.TemporaryDirectory(prefix="greenai-bench-home-") as home,
        # only Kafka is needed: name the other two so LocalServers does not start them
        LocalServers(
            Path(home), database_url="unused://", redis_url="unused://", kafka_sasl=False
        ) as urls,
    ):
        yield urls.kafka_bootstrap_servers


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    with kafka_bootstrap() as bootstrap:
        run(bootstrap, int(args[0]) if args else 200_000)


if __name__ == "__main__":
    main()
