"""The pipeline benchmark: source records/s through ingest -> diff -> attribution -> PostgreSQL,
beside a bare confluent-kafka consume -> produce loop over the same records on the same broker.

Also: each stage's CPU per record, latency from publish to stored break (p50, p99) at several
offered rates, one diff worker against two on the same records (with identical breaks), the
diff worker's memory per open key at a million open keys (the wake-up index measured alone
beside it), a backlog of a million records drained from scratch (what a replay of a week
costs), and datacompy (pandas) comparing the same two datasets as a batch reference.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from bench import wakeups
from greenai.localstack import ProcessGroup, ServerUrls
from greenai.localstack.ports import free_port
from greenai.up import PROCESSES
from streams.batches import BatchCodec
from streams.database import migrate, save_recon
from streams.ingest.files import RawRow
from streams.ingest.publisher import SourcePublisher
from streams.ingest.synthetic import TradeGenerator, TradePair
from streams.kafka import SafeProducer
from streams.keys import recon_key_bytes
from streams.progress import measure, wait_settled
from streams.recon import Recon, load_recon, parse_duration
from streams.settings import Settings
from streams.topics import Topics, ensure_topics
from streams.urls import with_schema

ROOT = Path(__file__).resolve().parent.parent
LATENCY_RATES = (2_000, 5_000, 10_000)  # records/s offered
RECON = ROOT / "examples" / "demo" / "trades.yaml"


def _pairs(records: int, break_rate: float, seed: int = 1) -> list[TradePair]:
    generator = TradeGenerator(seed=seed, break_rate=break_rate)
    pairs, total = [], 0
    while total < records:
        pair = generator.pair()
        pairs.append(pair)
        total += len(pair.ledger) + len(pair.custody)
    return pairs


class Run:
    """One isolated pipeline (topic prefix, consumer groups, PostgreSQL schema) on the servers."""

    def __init__(self, servers: ServerUrls, name: str, match_window: str = "2s") -> None:
        self.prefix = f"bench_{name}_{uuid.uuid4().hex[:6]}"
        self.home = Path(tempfile.mkdtemp(prefix=f"greenai-{self.prefix}-"))
        self.database_url = with_schema(servers.database_url, self.prefix)
        self.env = {
            **servers.as_env(),
            "DATABASE_URL": self.database_url,
            "GREENAI_HOME": str(self.home),
            "GREENAI_TOPIC_PREFIX": self.prefix,
            "GREENAI_BFF_PORT": "0",
            "GREENAI_LOG_LEVEL": "WARNING",
        }
        self.settings = Settings.model_validate(
            {
                "greenai_home": self.home,
                "kafka_bootstrap_servers": servers.kafka_bootstrap_servers,
                "database_url": self.database_url,
                "redis_url": servers.redis_url,
                "GREENAI_TOPIC_PREFIX": self.prefix,
            }
        )
        owner = with_schema(servers.database_owner(), self.prefix)
        migrate(owner, app_role=servers.database_app_role)
        ensure_topics(servers.kafka_bootstrap_servers, self.prefix)
        window = parse_duration(match_window)
        recon = load_recon(RECON).model_copy(update={"match_window": window})
        save_recon(self.database_url, recon)
        self.recon: Recon = recon
        self.topics = Topics(self.prefix)
        self.group = ProcessGroup(self.home / "logs")

    def start(self, *children: str, diff_workers: int = 1) -> None:
        self.env["GREENAI_BFF_PORT"] = str(free_port())
        for child in children:
            copies = diff_workers if child == "diff" else 1
            for n in range(1, copies + 1):
                self.group.start(
                    child if n == 1 else f"{child}-{n}",
                    [sys.executable, "-m", PROCESSES[child]],
                    self.env | {"GREENAI_WORKER_ID": str(n)},
                )

    def publish(self, pairs: list[TradePair], per_second: float = 0) -> dict[str, float]:
        """Publish through the ingest path (at most ``per_second`` records/s when given);
        returns each trade id's last publish time."""
        producer = SafeProducer(self.env["KAFKA_BOOTSTRAP_SERVERS"], {"linger.ms": 5})
        sides = {
            s: SourcePublisher(producer, self.topics, self.recon, s) for s in ("ledger", "custody")
        }
        published: dict[str, float] = {}
        started, sent = time.monotonic(), 0
        for n, pair in enumerate(pairs):
            for source, rows in (("ledger", pair.ledger), ("custody", pair.custody)):
                for row in rows:
                    sides[source].publish(RawRow(f"bench:{n}", row))
                    sent += 1
            published[pair.trade_id] = time.time()
            if per_second:
                time.sleep(max(0.0, started + sent / per_second - time.monotonic()))
        producer.flush()
        return published

    def break_essence(self) -> list[tuple[str, str, str, int]]:
        """What must not depend on how many workers did it: id, kind, status, version."""
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute("SELECT break_id, kind, status, version FROM breaks").fetchall()
        return sorted((r[0], r[1], r[2], r[3]) for r in rows)

    def stored_breaks(self) -> list[tuple[str, str, float]]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT key->>'trade_id', kind, extract(epoch FROM stored_at) FROM breaks"
            ).fetchall()
        return [(r[0], r[1], float(r[2])) for r in rows]

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) each child has used so far, by process name."""
        return {name: _cpu_seconds(pid) for name, pid in self.group.pids.items()}

    def stop(self) -> None:
        self.group.stop_all()


def _values(bootstrap: str, topic: str) -> Iterator[bytes]:
    """Every message value ``topic`` holds now, from the start."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex, "enable.auto.commit": False}
    )
    try:
        ends = {}
        for p in consumer.list_topics(topic).topics[topic].partitions:
            ends[p] = consumer.get_watermark_offsets(TopicPartition(topic, p))[1]
        consumer.assign(
            [TopicPartition(topic, p, OFFSET_BEGINNING) for p, end in ends.items() if end]
        )
        todo = {p for p, end in ends.items() if end}
        while todo:
            for message in consumer.consume(1000, timeout=1.0):
                if message.error():
                    continue
                yield message.value() or b""
                if (message.offset() or 0) >= ends[message.partition() or 0] - 1:
                    todo.discard(message.partition() or 0)
    finally:
        consumer.close()


def one_per_message(servers: ServerUrls, batched_topic: str, records: int) -> str:
    """The records of ``batched_topic``'s partition batches, one SourceRecord per message
    under its recon key, in a new topic of as many partitions (not timed)."""
    topic = f"{batched_topic}.single-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": servers.kafka_bootstrap_servers})
    partitions = len(admin.list_topics(batched_topic).topics[batched_topic].partitions)
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result()
    producer = SafeProducer(servers.kafka_bootstrap_servers)
    batches = BatchCodec("SourceRecord")
    for value in _values(servers.kafka_bootstrap_servers, batched_topic):
        for record in batches.decode(value, record_names=True):
            key = recon_key_bytes(record["recon"], record["key"])
            producer.send(topic, key, batches.single.encode(record))
    producer.flush()
    return topic


def baseline(servers: ServerUrls, batched_topic: str, records: int) -> float:
    """Bare confluent-kafka consume -> produce of the same records on the same broker, one
    record per message (as the issue's baseline: what a per-record loop can do)."""
    source_topic = one_per_message(servers, batched_topic, records)
    sink = f"{source_topic}.baseline"
    admin = AdminClient({"bootstrap.servers": servers.kafka_bootstrap_servers})
    partitions = len(admin.list_topics(source_topic).topics[source_topic].partitions)
    admin.create_topics([NewTopic(sink, partitions, 1)])[sink].result()
    consumer = Consumer(
        {
            "bootstrap.servers": servers.kafka_bootstrap_servers,
            "group.id": sink,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": servers.kafka_bootstrap_servers,
            "linger.ms": 20,
            "acks": "all",
            "enable.idempotence": True,
        }
    )
    consumer.subscribe([source_topic])
    seen, started = 0, time.perf_counter()
    while seen < records:
        for message in consumer.consume(1000, timeout=1.0):
            if message.error():
                continue
            while True:
                try:
                    producer.produce(sink, message.value(), message.key())
                    break
                except BufferError:
                    producer.poll(0.05)
            seen += 1
        producer.poll(0)
    producer.flush()
    consumer.commit(asynchronous=False)
    elapsed = time.perf_counter() - started
    consumer.close()
    return seen / elapsed


def datacompy_reference(pairs: list[TradePair], recon: Recon) -> float:
    """Rows per second of datacompy comparing the same two datasets in one batch."""
    import pandas as pd
    from datacompy.pandas import PandasCompare

    ledger = pd.DataFrame([r for p in pairs for r in p.ledger])
    custody = pd.DataFrame([r for p in pairs for r in p.custody]).rename(
        columns=recon.sources["custody"].rename
    )
    for frame in (ledger, custody):
        for column in ("amount", "price", "quantity"):
            frame[column] = frame[column].map(Decimal)
    started = time.perf_counter()
    compare = PandasCompare(ledger, custody, join_columns=["trade_id"], abs_tol=0.01)
    compare.report()
    return (len(ledger) + len(custody)) / (time.perf_counter() - started)


def open_key_state(servers: ServerUrls, keys: int = 1_000_000) -> dict[str, Any]:
    """Diff worker memory per key waiting for a match, at ``keys`` open keys: the growth of
    its resident set (from after a warm-up of 1% of the keys), beside the wake-up index
    alone on as many keys (``bench.wakeups``, in a process of its own); RocksDB's files; the
    worker's CPU per record while it took them in."""
    run = Run(servers, "openkeys", match_window="1h")
    generator = TradeGenerator(seed=5, break_rate=0)
    ledger_only = [
        TradePair(p.trade_id, None, p.ledger, []) for p in (generator.pair() for _ in range(keys))
    ]
    warm_up = keys // 100
    try:
        run.start("diff")
        time.sleep(8)  # let the worker join its group
        run.publish(ledger_only[:warm_up])
        wait_settled(lambda: measure(run.settings, count_windows=False), timeout=600)
        pid = run.group.pids["diff"]
        before, busy = _rss(pid), _cpu_seconds(pid)
        run.publish(ledger_only[warm_up:])
        wait_settled(lambda: measure(run.settings, count_windows=False), timeout=3600)
        time.sleep(2)
        grown, busy = _rss(pid) - before, _cpu_seconds(pid) - busy
        disk = sum(f.stat().st_size for f in (run.home / "state").rglob("*") if f.is_file())
    finally:
        run.stop()
    opened = keys - warm_up
    index = wakeups.resident_bytes(keys, "batched")
    return {
        "open_keys": keys,
        "rss_bytes_per_open_key": round(grown / opened),
        "wakeup_index_bytes_per_open_key": round(index),
        "rest_bytes_per_open_key": round(grown / opened - index),
        "rocksdb_disk_bytes_per_open_key": round(disk / keys),
        "diff_cpu_us_per_open_key": round(busy * 1e6 / opened, 1),
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _per_record(cpu: dict[str, float], records: int) -> dict[str, float]:
    """CPU µs per source record of each stage; a stage's records/s per core is 1e6 / this."""
    return {stage: round(seconds * 1e6 / records, 1) for stage, seconds in cpu.items()}


def _percentiles(latencies: list[float]) -> tuple[float | None, float | None]:
    if not latencies:
        return None, None
    ordered = sorted(latencies)
    return round(statistics.median(ordered), 3), round(ordered[int(len(ordered) * 0.99)], 3)


def paced_latency(servers: ServerUrls, records: int, per_second: float) -> dict[str, Any]:
    """Publish -> stored break latency with records offered at ``per_second``."""
    run = Run(servers, f"latency{int(per_second)}")
    try:
        run.start("diff", "attribution", "bff")
        time.sleep(10)
        started = time.monotonic()
        published = run.publish(_pairs(records, 0.1, seed=3), per_second=per_second)
        offered = records / (time.monotonic() - started)
        wait_settled(lambda: measure(run.settings), timeout=900)
        breaks = run.stored_breaks()
    finally:
        run.stop()
    p50, p99 = _percentiles(
        [stored - published[tid] for tid, kind, stored in breaks if kind != "MISSING"]
    )
    return {"offered_records_per_s": round(offered), "p50_s": p50, "p99_s": p99}


def latency_by_rate(servers: ServerUrls, rates: tuple[int, ...], seconds: float = 12) -> dict:
    """Publish -> stored break p50/p99 at each offered rate (records/s), ``seconds`` each."""
    return {
        f"latency_at_{rate}_per_s": paced_latency(servers, int(rate * seconds), rate)
        for rate in rates
    }


def scaling(servers: ServerUrls, records: int) -> dict[str, Any]:
    """The same records through one and two diff workers: records/s and identical breaks."""
    pairs = _pairs(records, 0.1, seed=5)
    total = sum(len(p.ledger) + len(p.custody) for p in pairs)
    rates, essences = {}, {}
    for workers in (1, 2):
        run = Run(servers, f"scale{workers}")
        try:
            run.start("diff", "attribution", "bff", diff_workers=workers)
            time.sleep(12)  # both join the group before the clock starts
            started = time.perf_counter()
            run.publish(pairs)
            wait_settled(lambda r=run: measure(r.settings), timeout=1800)  # type: ignore[misc]
            rates[workers] = total / (time.perf_counter() - started)
            essences[workers] = run.break_essence()
        finally:
            run.stop()
    return {
        "scaling_records": total,
        "one_diff_worker_rps": round(rates[1]),
        "two_diff_workers_rps": round(rates[2]),
        "two_to_one": round(rates[2] / rates[1], 2),
        "same_breaks": essences[1] == essences[2],
        "scaling_breaks": len(essences[1]),
    }


def throughput(servers: ServerUrls, pairs: list[TradePair]) -> dict[str, Any]:
    """The pairs published at ingest speed into a running pipeline: records/s until every
    break is stored, the latency of that queue, and each stage's CPU per record."""
    total = sum(len(p.ledger) + len(p.custody) for p in pairs)
    bench = Run(servers, "pipeline")
    try:
        bench.start("diff", "attribution", "bff")
        time.sleep(10)  # let the workers join their groups before the clock starts
        idle = bench.cpu_seconds()
        started, publishing = time.perf_counter(), time.process_time()
        published = bench.publish(pairs)
        publishing = time.process_time() - publishing
        wait_settled(lambda: measure(bench.settings), timeout=3600)
        elapsed = time.perf_counter() - started
        busy = bench.cpu_seconds()
        breaks = bench.stored_breaks()
    finally:
        bench.stop()
    p50, p99 = _percentiles(
        [stored - published[tid] for tid, kind, stored in breaks if kind != "MISSING"]
    )
    print(
        f"pipeline: {len(breaks)} breaks stored in {elapsed:.1f}s "
        f"({total / elapsed:.0f} records/s)",
        flush=True,
    )
    cpu = {"ingest": publishing} | {k: busy[k] - idle.get(k, 0.0) for k in busy}
    return {
        "records": total,
        "breaks": len(breaks),
        "pipeline_rps": round(total / elapsed),
        "saturated_latency_p50_s": p50,
        "saturated_latency_p99_s": p99,
        "cpu_us_per_record": _per_record(cpu, total),
        "records_topic": bench.topics.records,
        "recon": bench.recon,
    }


def backlog(servers: ServerUrls, records: int) -> dict[str, Any]:
    """A replay's work: ``records`` already in the records topic (a week of history, say)
    when the workers start; the time from their start until every break is stored."""
    pairs = _pairs(records, 0.1, seed=7)
    total = sum(len(p.ledger) + len(p.custody) for p in pairs)
    run = Run(servers, "backlog")
    try:
        run.publish(pairs)  # not timed: the history is there before the replay starts
        del pairs
        started = time.perf_counter()
        run.start("diff", "attribution", "bff")
        wait_settled(lambda: measure(run.settings), timeout=7200)
        elapsed = time.perf_counter() - started
        breaks = len(run.stored_breaks())
    finally:
        run.stop()
    return {
        "backlog_records": total,
        "backlog_breaks": breaks,
        "backlog_seconds": round(elapsed, 1),
        "backlog_rps": round(total / elapsed),
    }


def run(
    servers: ServerUrls,
    records: int = 200_000,
    break_rate: float = 0.1,
    backlog_records: int = 1_000_000,
    open_keys: int = 1_000_000,
) -> dict[str, Any]:
    pairs = _pairs(records, break_rate)
    total = sum(len(p.ledger) + len(p.custody) for p in pairs)
    print(
        f"pipeline: {total} source records, {len(pairs)} trades, {break_rate:.0%} breaks",
        flush=True,
    )
    figures = throughput(servers, pairs)
    baseline_rps = baseline(servers, figures.pop("records_topic"), total)
    figures["datacompy_batch_rps"] = round(datacompy_reference(pairs, figures.pop("recon")))
    figures |= latency_by_rate(servers, LATENCY_RATES)
    figures |= scaling(servers, min(records, 60_000))
    figures |= open_key_state(servers, open_keys)
    figures |= backlog(servers, backlog_records)
    figures |= {
        "baseline_rps": round(baseline_rps),
        "ratio": round(figures["pipeline_rps"] / baseline_rps, 3),
    }
    return figures


if __name__ == "__main__":
    from bench.servers import bench_servers

    with bench_servers() as urls:
        result = run(urls, records=int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
    print(json.dumps({k: v for k, v in result.items() if "open_key" in k}))
    print(json.dumps({k: result[k] for k in ("pipeline_rps", "baseline_rps", "ratio")}))
