"""Chaos on a running pipeline: a continuous feed with breaks of every kind (and corrections
that resolve some of them) while the diff worker, the attribution worker and the BFF are
SIGKILLed at random moments and PostgreSQL and Redis are restarted; then the stored breaks
are held against the oracle. ``test_chaos`` runs it for a minute, ``make soak`` for twenty.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from greenai.localstack import LocalServers
from streams.database import load_recon
from streams.ingest.files import RawRow
from streams.ingest.publisher import SourcePublisher
from streams.ingest.synthetic import TradeGenerator, TradePair
from streams.kafka import SafeProducer, group_lag
from streams.topics import Topics
from tests.integration.oracle import compare, expected_breaks, records_in_kafka
from tests.integration.pipeline import ROOT, Pipeline, start_pipeline

VICTIMS = ("diff", "attribution", "sink", "bff")
CORRECT_AFTER = 8.0  # seconds after a broken trade its correction is published
CORRECTED_SHARE = 0.4


@dataclass
class Report:
    seconds: float
    trades: int = 0
    corrections: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    server_restarts: list[str] = field(default_factory=list)
    lag: list[tuple[float, int]] = field(default_factory=list)  # (second, messages behind)
    rss: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # name -> KiB
    settle_seconds: float = 0.0
    breaks: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        growth = {
            name: {
                "first_kib": series[0][1],
                "last_kib": series[-1][1],
                "max_kib": max(v for _, v in series),
            }
            for name, series in self.rss.items()
            if series
        }
        return {
            "seconds": round(self.seconds),
            "trades": self.trades,
            "corrections": self.corrections,
            "kills": dict(self.kills),
            "server_restarts": self.server_restarts,
            "max_lag": max((lag for _, lag in self.lag), default=0),
            "final_lag": self.lag[-1][1] if self.lag else 0,
            "rss": growth,
            "settle_seconds": round(self.settle_seconds, 1),
            "breaks": self.breaks,
            "problems": len(self.problems),
        }


def feed(pipeline: Pipeline, report: Report, seconds: float, rate: float, seed: int) -> None:
    """Trades at ``rate`` a second for ``seconds``; some breaks corrected later."""
    definition = load_recon(pipeline.env["DATABASE_URL"], "trades")
    producer = SafeProducer(pipeline.env["KAFKA_BOOTSTRAP_SERVERS"], {"linger.ms": 10})
    topics = Topics(pipeline.env["GREENAI_TOPIC_PREFIX"])
    ledger = SourcePublisher(producer, topics, definition, "ledger")
    custody = SourcePublisher(producer, topics, definition, "custody")
    generator = TradeGenerator(seed=seed, break_rate=0.2)
    rng = random.Random(seed)
    pending: list[tuple[float, TradePair]] = []
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        pair = generator.pair()
        n += 1
        for row in pair.ledger:
            ledger.publish(RawRow(f"ledger:{n}", row))
        for row in pair.custody:
            custody.publish(RawRow(f"custody:{n}", row))
        if pair.cause and rng.random() < CORRECTED_SHARE:
            pending.append((time.monotonic() + CORRECT_AFTER, pair))
        while pending and pending[0][0] <= time.monotonic():
            fixed = generator.correction(pending.pop(0)[1])
            if fixed:
                custody.publish(RawRow(f"correction:{n}", fixed))
                report.corrections += 1
        if n % 25 == 0:
            producer.flush()
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
    producer.flush()
    report.trades = n


def havoc(
    pipeline: Pipeline,
    servers: LocalServers,
    report: Report,
    seconds: float,
    seed: int,
    kill_every: tuple[float, float],
) -> None:
    """SIGKILL a random process every few seconds; restart PostgreSQL and Redis once each."""
    rng = random.Random(seed)
    start = time.monotonic()
    restarts = {
        "postgres": start + seconds * 0.35,
        "redis": start + seconds * 0.65,
    }
    victims = list(VICTIMS)
    rng.shuffle(victims)  # each is killed at least once, in a random order, then at random
    next_kill = start + rng.uniform(*kill_every)
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        for server, at in list(restarts.items()):
            if now >= at and servers.manages(server):
                servers.stop_server(server)
                time.sleep(rng.uniform(1.0, 4.0))
                servers.start_server(server)
                report.server_restarts.append(server)
                del restarts[server]
        if now >= next_kill:
            victim = victims.pop() if victims else rng.choice(VICTIMS)
            pipeline.kill(victim)
            report.kills[victim] += 1
            next_kill = time.monotonic() + rng.uniform(*kill_every)
        time.sleep(0.2)


def watch(pipeline: Pipeline, report: Report, stop: threading.Event) -> None:
    """Lag behind the records and the resident memory of every process, every 5 s."""
    prefix = pipeline.env["GREENAI_TOPIC_PREFIX"]
    bootstrap = pipeline.env["KAFKA_BOOTSTRAP_SERVERS"]
    start = time.monotonic()
    while not stop.wait(5.0):
        at = time.monotonic() - start
        try:
            lag = group_lag(bootstrap, f"{prefix}-diff", [f"{prefix}.records"])
            report.lag.append((at, lag))
        except Exception:  # a broker call timing out during the chaos is no finding
            pass
        for name, pid in pipeline.group.pids.items():
            kib = rss_kib(pid)
            if kib is not None:
                report.rss.setdefault(name, []).append((at, kib))


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def chaos_pipeline(servers: LocalServers, home: Path, name: str) -> Pipeline:
    """A pipeline on the session's servers with the demo recon and a 5 s match window."""
    assert servers.urls is not None
    demo = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())
    recon = home / "trades.yaml"
    recon.write_text(yaml.safe_dump(demo | {"match_window": "5s"}, sort_keys=False))
    pipeline = start_pipeline(servers.urls, home, name)
    pipeline.cli("recon", "apply", str(recon))
    return pipeline


def run_chaos(
    pipeline: Pipeline,
    servers: LocalServers,
    *,
    seconds: float,
    rate: float,
    seed: int,
    kill_every: tuple[float, float] = (6.0, 14.0),
) -> Report:
    report = Report(seconds)
    stop = threading.Event()
    threads = [
        threading.Thread(target=feed, args=(pipeline, report, seconds, rate, seed)),
        threading.Thread(target=havoc, args=(pipeline, servers, report, seconds, seed, kill_every)),
    ]
    watcher = threading.Thread(target=watch, args=(pipeline, report, stop), daemon=True)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    settling = time.monotonic()
    pipeline.cli("wait", "--timeout", "600", timeout=660)
    report.settle_seconds = time.monotonic() - settling
    stop.set()
    recon = load_recon(pipeline.env["DATABASE_URL"], "trades")
    prefix = pipeline.env["GREENAI_TOPIC_PREFIX"]
    messages = records_in_kafka(pipeline.env["KAFKA_BOOTSTRAP_SERVERS"], f"{prefix}.records")
    stored = pipeline.breaks()
    report.breaks = len(stored)
    report.problems = compare(expected_breaks(recon, messages), stored)
    return report
