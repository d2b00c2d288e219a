"""Crash safety on the real servers: SIGKILL a worker mid-stream and restart it, and the final
breaks equal those of a run without the crash; two diff workers equal one.

Trades come from the seeded generator (10% breaks of every cause), published at a steady rate
so the kill lands mid-stream.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka.admin import AdminClient

from greenai.localstack import ServerUrls
from greenai.up import PROCESSES
from streams.ingest.synthetic import TradeGenerator, TradePair
from tests.integration.pipeline import Pipeline, start_pipeline

ROOT = Path(__file__).resolve().parents[2]
TRADES = 2500
RATE = 500  # trades per second: the stream lasts about five seconds


def _pairs() -> list[TradePair]:
    generator = TradeGenerator(seed=2026, break_rate=0.1)
    return [generator.pair() for _ in range(TRADES)]


@pytest.fixture(scope="module")
def recon_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())
    demo["match_window"] = "5s"  # event time: a restart slower than the window fakes nothing
    path = tmp_path_factory.mktemp("recon") / "trades.yaml"
    path.write_text(yaml.safe_dump(demo, sort_keys=False))
    return path


def essence(breaks: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """What must not differ between runs (only timestamps may)."""
    return {
        b["break_id"]: (
            b["key"]["trade_id"],
            b["kind"],
            b["status"],
            b["missing_in"],
            [(f["field"], f["values"], f["delta"]) for f in b["fields"]],
            b["version"],
            b["cause"],
            b["disposition"],
            b["priority"],
        )
        for b in breaks
    }


def run(
    pipeline: Pipeline,
    recon: Path,
    crash: str | None = None,
    replay: bool = False,
    helper: bool = False,
) -> dict[str, Any]:
    """The breaks of the trades fed at RATE; ``crash``: SIGKILL that child mid-stream (it is
    restarted); ``helper``: a second diff worker joins mid-stream and leaves before the end
    (two rebalances under load)."""
    pipeline.cli("recon", "apply", str(recon))
    publisher = threading.Thread(target=pipeline.publish, args=("trades", _pairs(), RATE))
    publisher.start()
    if crash:
        time.sleep(2.5)
        pipeline.kill(crash)
    if helper:
        time.sleep(1.0)
        pipeline.start("diff-helper", PROCESSES["diff"], GREENAI_WORKER_ID="helper")
        time.sleep(6.0)  # it starts, takes partitions, works through some backlog
        pipeline.stop("diff-helper")
    publisher.join()
    pipeline.cli("wait", "--timeout", "180", timeout=240)
    if replay:
        pipeline.cli("replay", "--recon", "trades", "--from", "2000-01-01T00:00:00Z")
        pipeline.cli("wait", "--timeout", "180", timeout=240)
    return essence(pipeline.breaks())


def _pipeline(
    servers: ServerUrls, tmp: pytest.TempPathFactory, name: str, diff_workers: int = 1
) -> Iterator[Pipeline]:
    running = start_pipeline(servers, tmp.mktemp(name), name, diff_workers=diff_workers)
    try:
        yield running
    finally:
        running.group.stop_all()


@pytest.fixture(scope="module")
def clean_run(
    servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory, recon_file: Path
) -> dict[str, Any]:
    for pipeline in _pipeline(servers, tmp_path_factory, "clean"):
        return run(pipeline, recon_file)
    raise AssertionError("unreachable")


def test_the_clean_run_found_breaks_of_every_kind(clean_run: dict[str, Any]) -> None:
    kinds = {v[1] for v in clean_run.values()}
    assert kinds == {"MISMATCH", "MISSING", "DUPLICATE"}
    assert len(clean_run) > TRADES * 0.05


@pytest.mark.parametrize("victim", ["diff", "attribution", "sink"])
def test_sigkill_mid_stream_loses_and_doubles_nothing(
    servers: ServerUrls,
    tmp_path_factory: pytest.TempPathFactory,
    recon_file: Path,
    clean_run: dict[str, Any],
    victim: str,
) -> None:
    for pipeline in _pipeline(servers, tmp_path_factory, f"crash_{victim}"):
        assert run(pipeline, recon_file, crash=victim) == clean_run


def test_two_diff_workers_give_the_same_breaks_as_one(
    servers: ServerUrls,
    tmp_path_factory: pytest.TempPathFactory,
    recon_file: Path,
    clean_run: dict[str, Any],
) -> None:
    for pipeline in _pipeline(servers, tmp_path_factory, "two", diff_workers=2):
        assert run(pipeline, recon_file) == clean_run
        group = f"{pipeline.env['GREENAI_TOPIC_PREFIX']}-diff"
        admin = AdminClient({"bootstrap.servers": servers.kafka_bootstrap_servers})
        (described,) = admin.describe_consumer_groups([group]).values()
        owned = [
            {tp.partition for tp in m.assignment.topic_partitions if tp.topic.endswith(".records")}
            for m in described.result().members
        ]
        assert len(owned) == 2 and all(owned), f"both workers must own partitions: {owned}"


def test_a_diff_worker_joining_and_leaving_mid_stream_changes_no_break(
    servers: ServerUrls,
    tmp_path_factory: pytest.TempPathFactory,
    recon_file: Path,
    clean_run: dict[str, Any],
) -> None:
    """Partitions move to a new worker and back while records flow: every state the
    leaving owner wrote is in the changelog the next owner restores (none lost), and the
    records it had not committed are applied once (none doubled)."""
    for pipeline in _pipeline(servers, tmp_path_factory, "helped"):
        assert run(pipeline, recon_file, helper=True) == clean_run


def test_a_replay_of_the_whole_history_changes_no_break(
    servers: ServerUrls,
    tmp_path_factory: pytest.TempPathFactory,
    recon_file: Path,
    clean_run: dict[str, Any],
) -> None:
    for pipeline in _pipeline(servers, tmp_path_factory, "replayed"):
        assert run(pipeline, recon_file, replay=True) == clean_run
