"""Outages slow greenai down; they do not kill it. PostgreSQL, Redis or the Kafka broker is
stopped for 30 s in the middle of a continuous feed and started again: every worker and the
BFF stay the processes they were, say once that the server went away and once that it is
back, and catch up; the stored breaks are exactly the oracle's, and an SSE client that
stayed connected received every stored change.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from greenai.localstack import LocalServers
from streams.database import load_recon
from streams.ingest.synthetic import TradeGenerator
from tests.integration.oracle import compare, expected_breaks, records_in_kafka
from tests.integration.pipeline import ROOT, Pipeline, start_pipeline
from tests.integration.sse import SseRecorder

OUTAGE = 30.0
TRADES = 5000
RATE = 120  # trades per second: the feed lasts about 40 s, the outage sits in its middle
HEALTH_NAME = {"postgres": "postgres", "redis": "redis", "kafka": "kafka"}
SAID = {  # child: the one line it says when the server goes away
    "postgres": {"sink": "PostgreSQL (sink) unreachable"},
    "redis": {"sink": "Redis (fan-out) unreachable", "diff": "Redis (diff reports) unreachable"},
    "kafka": {
        "sink": "Kafka (sink) unreachable",
        "diff": "Kafka unreachable",
        "attribution": "Kafka unreachable",
    },
}


@pytest.fixture(scope="module")
def recon_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())
    demo["match_window"] = "5s"
    path = tmp_path_factory.mktemp("recon") / "trades.yaml"
    path.write_text(yaml.safe_dump(demo, sort_keys=False))
    return path


@pytest.fixture
def pipeline(
    local_servers: LocalServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    assert local_servers.urls is not None
    running = start_pipeline(local_servers.urls, tmp_path_factory.mktemp("outage"), "outage")
    try:
        yield running
    finally:
        running.group.stop_all()


def health(pipeline: Pipeline) -> tuple[int, dict[str, object]]:
    response = httpx.get(f"{pipeline.bff_url}/healthz", timeout=15)
    return response.status_code, response.json()


@pytest.mark.parametrize("server", ["postgres", "redis", "kafka"])
def test_a_30s_outage_slows_greenai_down_and_loses_nothing(
    local_servers: LocalServers, pipeline: Pipeline, recon_file: Path, server: str
) -> None:
    if not local_servers.manages(server):
        pytest.skip(f"{server} is an existing server: the tests cannot stop it")
    pipeline.cli("recon", "apply", str(recon_file))
    pids = dict(pipeline.group.pids)
    sse = SseRecorder(f"{pipeline.bff_url}/api/stream", pipeline.admin_token)
    sse.start()
    assert sse.ready.wait(30)
    generator = TradeGenerator(seed=31, break_rate=0.15)
    pairs = [generator.pair() for _ in range(TRADES)]
    feed = threading.Thread(target=pipeline.publish, args=("trades", pairs, RATE))
    feed.start()
    time.sleep(10)
    local_servers.stop_server(server)
    try:
        time.sleep(5)
        code, report = health(pipeline)
        assert code == 503 and report[HEALTH_NAME[server]]["ok"] is False, report  # type: ignore[index]
        time.sleep(OUTAGE - 5)
    finally:
        local_servers.start_server(server)
    feed.join(timeout=300)
    pipeline.cli("wait", "--timeout", "300", timeout=360)
    time.sleep(2)  # the last fan-out reaches the SSE client
    sse.stop()

    assert pipeline.group.first_exit(timeout=0) is None, "a process exited"
    assert pipeline.group.pids == pids
    deadline = time.monotonic() + 30
    while health(pipeline)[0] != 200 and time.monotonic() < deadline:
        time.sleep(1)
    assert health(pipeline)[0] == 200, json.dumps(health(pipeline)[1])

    recon = load_recon(pipeline.env["DATABASE_URL"], "trades")
    messages = records_in_kafka(
        pipeline.env["KAFKA_BOOTSTRAP_SERVERS"], f"{pipeline.env['GREENAI_TOPIC_PREFIX']}.records"
    )
    stored = pipeline.breaks()
    assert compare(expected_breaks(recon, messages), stored) == []
    missed = {(b["break_id"], b["version"]) for b in stored} - sse.breaks()
    assert not missed, f"{len(missed)} stored changes never reached the SSE client"

    for child, line in SAID[server].items():
        log = (pipeline.home / "logs" / f"{child}.log").read_text()
        said = [json.loads(s) for s in log.splitlines() if s.startswith("{")]
        assert [s["message"] for s in said].count(line) == 1 or (
            sum(s["message"].startswith(line) for s in said) == 1
        ), f"{child} should say once: {line!r}"
        # one JSON object a line, and few of them (library commentary is debug)
        assert len(log.splitlines()) < 300, f"{child} wrote {len(log.splitlines())} lines"
