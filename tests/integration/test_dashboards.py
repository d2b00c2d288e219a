"""No dashboard ships broken: a short run of the whole pipeline (with the scheduler and the
notifier) watched by the real Prometheus of ``greenai up --observability``, then every panel's
query of infra/grafana/dashboards, as Grafana would send it, returns series; the rules of
infra/prometheus evaluate without error and none fires on the healthy run.

The run: trades with breaks of every cause, a few poison records (dead letters), two breaks
labelled through the API (the model's metrics move), a cut-off run on request (alerts, and
their delivery to a webhook subscriber), an SSE client and the command line's API calls."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import yaml

from greenai.localstack import ServerUrls
from greenai.localstack import observability as observe
from greenai.localstack.ports import free_port
from greenai.localstack.processes import ProcessGroup
from greenai.up import PROCESSES
from streams.ingest.synthetic import TradeGenerator
from streams.kafka import SafeProducer
from streams.keys import recon_key_bytes
from streams.topics import Topics
from tests import monitoring
from tests.integration.pipeline import ROOT, Pipeline, start_pipeline, until
from tests.integration.sse import SseRecorder

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

TRADES = 150
POISON = 3
LABELLED = 2
SCRAPE = observe.SCRAPE_SECONDS
by_name = {q.name: q for q in monitoring.queries()}


class Webhook:
    """An alert subscriber's endpoint: answers 200 and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                hook.calls += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def watched(
    servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Pipeline, observe.Observability]]:
    home = tmp_path_factory.mktemp("dashboards")
    group = ProcessGroup(home / "observability-logs")
    try:
        found = observe.start(home, group)
        running = start_pipeline(servers, home, "dash", env=found.env())
        running.start(
            "scheduler",
            PROCESSES["scheduler"],
            GREENAI_SCHEDULER_SLA_SECONDS="5",
            GREENAI_SCHEDULER_GAUGE_SECONDS="2",
        )
        running.start("notify", PROCESSES["notify"])
        try:
            yield running, found
        finally:
            running.group.stop_all()
    finally:
        group.stop_all()


def poison(pipeline: Pipeline) -> None:
    """Records no reader can decode, on the diff worker's input: dead letters."""
    producer = SafeProducer(
        pipeline.env["KAFKA_BOOTSTRAP_SERVERS"], security=pipeline.kafka_security
    )
    topic = Topics(pipeline.env["GREENAI_TOPIC_PREFIX"]).records
    key = recon_key_bytes("trades", {"trade_id": "T-POISON"})
    for n in range(POISON):
        producer.send(topic, key, f"not a record {n}".encode())
    producer.flush()


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=10)
    body = answer.json()
    assert body["status"] == "success", f"{promql}: {body}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


@pytest.fixture(scope="module")
def ran(
    watched: tuple[Pipeline, observe.Observability], tmp_path_factory: pytest.TempPathFactory
) -> float:
    """The short run; when it began (time.monotonic())."""
    pipeline, _ = watched
    began = time.monotonic()
    demo = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())
    recon = demo | {
        "match_window": "2s",
        "workflow": {"cutoff": "17:30", "sla": {"default": "1d"}},
    }
    path = tmp_path_factory.mktemp("recon") / "trades.yaml"
    path.write_text(yaml.safe_dump(recon, sort_keys=False))
    pipeline.cli("recon", "apply", str(path))
    hook = Webhook()
    with pipeline.http() as admin:
        made = admin.post(
            "/api/alerts/subscriptions",
            json={"name": "dashboards", "channel": "webhook", "target": hook.url},
        )
        assert made.status_code == 201, made.text
    live = SseRecorder(f"{pipeline.bff_url}/api/stream", pipeline.admin_token)
    live.start()
    assert live.ready.wait(30)
    generator = TradeGenerator(seed=12, break_rate=0.4)
    pipeline.publish("trades", [generator.pair() for _ in range(TRADES)])
    poison(pipeline)
    pipeline.cli("wait", "--timeout", "90")
    attributed = [b for b in pipeline.breaks() if b["status"] == "OPEN" and b["cause"]]
    assert len(attributed) >= LABELLED
    with pipeline.http() as analyst:
        for found in attributed[:LABELLED]:
            labelled = analyst.post(
                f"/api/breaks/{found['break_id']}/label", json={"cause": found["cause"]}
            )
            assert labelled.status_code == 200, labelled.text
    pipeline.cli("schedule", "run", "cutoff:trades", "--wait", "60")
    until(lambda: hook.calls, "an alert delivered to the webhook", 60)
    return began


# What the run did, as three panels count it over the time range: (panel query, label) ->
# {label value: at least}
DID = {
    ("pipeline-health/Dead letters in the time range/A", "stage"): {"diff": POISON},
    ("recon-quality/Analysts' actions in the time range/A", "action"): {"LABEL": LABELLED},
    ("recon-quality/Alerts by kind in the time range/A", "kind"): {"CUTOFF_SUMMARY": 1},
}


def short_of(got: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """The counts of DID that the panels do not show (yet): what they show instead."""
    out = {}
    for (name, label), wanted in DID.items():
        shown = {r["metric"].get(label, ""): float(r["value"][1]) for r in got[name]}
        if any(shown.get(value, 0) < least for value, least in wanted.items()):
            out[name] = shown
    return out


@pytest.fixture(scope="module")
def answers(
    watched: tuple[Pipeline, observe.Observability], ran: float
) -> dict[str, list[dict[str, Any]]]:
    """Every panel's query answered by Prometheus, once it has scraped what the run did: each
    query that can show something shows it, the counts show what the run did and the model
    has learned the labels (or the time is up)."""
    _, found = watched
    deadline = time.monotonic() + 90
    while True:
        range_seconds = max(60, int(time.monotonic() - ran) + 2 * SCRAPE)
        got = {
            q.name: query(found.prometheus, monitoring.promql(q, SCRAPE, range_seconds))
            for q in monitoring.queries()
        }
        learned = query(found.prometheus, f"greenai_attribution_model_labels >= {LABELLED}")
        waiting = [n for n, r in got.items() if not r]
        if (learned and not waiting and not short_of(got)) or time.monotonic() > deadline:
            return got
        time.sleep(SCRAPE)


@pytest.mark.parametrize(
    "name",
    [pytest.param(q.name, id=q.name) for q in monitoring.queries()],
)
def test_every_panel_query_returns_series(
    name: str, answers: dict[str, list[dict[str, Any]]]
) -> None:
    promql = monitoring.promql(by_name[name], SCRAPE, 600)
    assert answers[name], f"{name}: no series for {promql}"


@pytest.mark.parametrize(
    ("board", "variable", "metric", "label"),
    [
        pytest.param(
            stem,
            *v,
            id=f"{stem}/${v[0]}",
        )
        for stem, b in monitoring.dashboards().items()
        for v in monitoring.variable_queries(b)
    ],
)
def test_every_variable_lists_values(
    board: str,
    variable: str,
    metric: str,
    label: str,
    watched: tuple[Pipeline, observe.Observability],
    answers: dict[str, list[dict[str, Any]]],
) -> None:
    _, found = watched
    values = {r["metric"].get(label) for r in query(found.prometheus, metric)} - {None}
    assert values, f"{board}: ${variable} (label_values({metric}, {label})) lists nothing"


def test_the_counts_over_the_time_range_show_what_the_run_did(
    answers: dict[str, list[dict[str, Any]]],
) -> None:
    """Counters born with their first increment (dead letters, actions, alerts) count whole."""
    assert short_of(answers) == {}


def test_the_model_learned_the_labels(
    watched: tuple[Pipeline, observe.Observability], answers: dict[str, list[dict[str, Any]]]
) -> None:
    _, found = watched
    learned = query(found.prometheus, "max(greenai_attribution_model_labels)")
    assert learned and float(learned[0]["value"][1]) >= LABELLED, learned


def test_the_rules_evaluate_without_error_and_none_fires_on_a_healthy_run(
    watched: tuple[Pipeline, observe.Observability], answers: dict[str, list[dict[str, Any]]]
) -> None:
    _, found = watched
    groups = httpx.get(f"{found.prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    loaded = [r for g in groups for r in g["rules"]]
    assert len(loaded) == len(monitoring.rules())
    broken = {r["name"]: r.get("lastError") for r in loaded if r["health"] != "ok"}
    assert broken == {}
    firing = {
        r["name"]: [a["labels"] for a in r.get("alerts", []) if a["state"] == "firing"]
        for r in loaded
        if r["type"] == "alerting" and r["state"] == "firing"
    }
    assert firing == {}
