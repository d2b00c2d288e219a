"""Observability on the real stack, with the real Jaeger and Prometheus of
``greenai up --observability``: one trace runs from ``greenai ingest file`` to the stored break
and its SSE delivery; Prometheus scrapes every process and loads the rules; every process logs
JSON lines of one schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from greenai.localstack import ServerUrls
from greenai.localstack import observability as observe
from greenai.localstack.processes import ProcessGroup
from greenai.up import PROCESSES
from tests.integration.pipeline import Pipeline, start_pipeline, until
from tests.integration.sse import SseRecorder

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

DATA = Path(__file__).resolve().parent / "data"
SCHEMA = {"time", "level", "logger", "message", "process"}


@pytest.fixture(scope="module")
def watched(
    servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Pipeline, observe.Observability]]:
    home = tmp_path_factory.mktemp("observability")
    group = ProcessGroup(home / "observability-logs")
    try:
        found = observe.start(home, group)
        running = start_pipeline(servers, home, "obs", env=found.env())
        running.start("scheduler", PROCESSES["scheduler"])
        running.start("notify", PROCESSES["notify"])
        try:
            yield running, found
        finally:
            running.group.stop_all()
    finally:
        group.stop_all()


def test_one_trace_runs_from_ingest_file_to_the_stored_break_and_its_sse_delivery(
    watched: tuple[Pipeline, observe.Observability],
) -> None:
    pipeline, found = watched
    live = SseRecorder(f"{pipeline.bff_url}/api/stream", pipeline.admin_token)
    live.start()
    assert live.ready.wait(30)
    pipeline.cli("recon", "apply", str(DATA / "recon.yaml"))
    for source in ("ledger", "custody"):
        pipeline.cli(
            "ingest", "file", "--recon", "trades", "--source", source, str(DATA / f"{source}.csv")
        )
    pipeline.cli("wait", "--timeout", "90")
    stored = {b["break_id"] for b in pipeline.breaks()}
    assert stored

    def whole() -> dict[str, Any] | None:
        """A trace that holds every stage, for a break that is stored."""
        traces = (
            httpx.get(
                f"{found.jaeger}/api/traces",
                params={"service": "greenai-ingest", "limit": 50, "lookback": "1h"},
                timeout=10,
            ).json()["data"]
            or []
        )
        for t in traces:
            services = {t["processes"][s["processID"]]["serviceName"]: s for s in t["spans"]}
            stages = {s["operationName"] for s in t["spans"]}
            tags = [{x["key"]: x["value"] for x in s["tags"]} for s in t["spans"]]
            broke = {g["break_id"] for g in tags if "break_id" in g} & stored
            wanted = {"ingest.file", "diff.message", "attribution.break", "sink.store"}
            if wanted <= stages and broke and "sse.deliver" in stages:
                return {"services": set(services), "stages": stages, "breaks": broke}
        return None

    trace = until(whole, "a whole trace in Jaeger")
    live.stop()
    assert {
        "greenai-ingest",
        "greenai-diff",
        "greenai-attribution",
        "greenai-sink",
        "greenai-bff",
    } <= trace["services"]


def test_prometheus_scrapes_every_process_and_loads_the_rules(
    watched: tuple[Pipeline, observe.Observability],
) -> None:
    pipeline, found = watched

    def scraped() -> set[str]:
        targets = httpx.get(f"{found.prometheus}/api/v1/targets", timeout=10).json()
        up = {
            t["labels"]["process"] for t in targets["data"]["activeTargets"] if t["health"] == "up"
        }
        return up if {"diff", "attribution", "sink", "bff", "scheduler", "notify"} <= up else set()

    until(scraped, "every process scraped")
    query = httpx.get(
        f"{found.prometheus}/api/v1/query",
        params={"query": "min by (process) (greenai_dependency_up)"},
        timeout=10,
    ).json()
    healthy = {r["metric"]["process"]: r["value"][1] for r in query["data"]["result"]}
    assert healthy and set(healthy.values()) == {"1"}, healthy
    rules = httpx.get(f"{found.prometheus}/api/v1/rules", timeout=10).json()
    assert rules["data"]["groups"], "the rules of infra/prometheus are loaded"
    for process in ("diff", "sink", "scheduler"):
        (target,) = json.loads((pipeline.home / "metrics" / f"{process}-1.json").read_text())
        health = httpx.get(f"http://{target['targets'][0]}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["ok"], health.text


def test_every_process_logs_json_lines_of_one_schema(
    watched: tuple[Pipeline, observe.Observability],
) -> None:
    pipeline, _ = watched
    for child in ("diff", "attribution", "sink", "bff", "scheduler", "notify"):
        lines = (pipeline.home / "logs" / f"{child}.log").read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        others = [line for line in lines if not line.startswith(("{", "--- "))]
        assert records and not others, f"{child}: {others[:3]}"
        assert all(set(r) >= SCHEMA for r in records), f"{child}: {records[0]}"
        assert {r["process"] for r in records} == {child}
