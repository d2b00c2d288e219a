"""Attribution on the real servers: analysts' labels reach every worker's model through the
feedback topic; the model is checkpointed with its feedback offset, survives SIGKILL without
forgetting or double-learning, rolls back, alerts on drift; decisions are recorded and
reversible through the CLI and the API."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition
from psycopg.rows import dict_row

from greenai.localstack import ServerUrls
from greenai.up import DEMO_RECON
from streams.attribution.learner import Learner, loads
from streams.avro import codec
from streams.feedback import feedback_codec
from streams.ingest.synthetic import TradeGenerator
from tests.integration.pipeline import Pipeline, start_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

TRADES = 90


@pytest.fixture(scope="module")
def stack(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The pipeline with a fast checkpoint cadence for the attribution worker."""
    home = tmp_path_factory.mktemp("attribution")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GREENAI_ATTRIBUTION_CHECKPOINT_SECONDS", "0.5")
        running = start_pipeline(servers, home, "attr")
    try:
        yield running
    finally:
        running.group.stop_all()


@pytest.fixture(scope="module")
def truth(stack: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Generated trades with a break of a known cause each, ingested and settled:
    ``{break_id: cause}``."""
    work = tmp_path_factory.mktemp("attribution-data")
    recon = yaml.safe_load(DEMO_RECON.read_text()) | {"match_window": "2s"}
    (work / "recon.yaml").write_text(yaml.safe_dump(recon, sort_keys=False))
    stack.cli("recon", "apply", str(work / "recon.yaml"))
    generator = TradeGenerator(seed=17, break_rate=1.0, variety=True)
    pairs = [generator.pair() for _ in range(TRADES)]
    for source in ("ledger", "custody"):
        rows = [row for p in pairs for row in getattr(p, source)]
        (work / f"{source}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        stack.cli(
            "ingest", "file", "--recon", "trades", "--source", source, str(work / f"{source}.jsonl")
        )
    stack.cli("wait", "--timeout", "120")
    cause_of = {p.trade_id: p.cause for p in pairs}
    return {b["break_id"]: str(cause_of[b["key"]["trade_id"]]) for b in stack.breaks()}


def _sql(stack: Pipeline, query: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(stack.env["DATABASE_URL"], row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def _eventually(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def _checkpointed(stack: Pipeline, offset: int) -> dict[str, Any]:
    return _eventually(
        lambda: next(
            iter(_sql(stack, "SELECT * FROM model_versions WHERE feedback_offset = %s", offset)),
            None,
        ),
        f"a model checkpoint at feedback offset {offset}",
    )


def _label_file(path: Path, labels: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"break_id": b, "cause": c}) + "\n" for b, c in labels))
    return path


def _feedback_log(stack: Pipeline) -> list[tuple[int, dict[str, Any]]]:
    """Every feedback event from offset 0, as a worker reads them."""
    topic = f"{stack.env['GREENAI_TOPIC_PREFIX']}.feedback"
    consumer = Consumer(
        {
            "bootstrap.servers": stack.env["KAFKA_BOOTSTRAP_SERVERS"],
            "group.id": "feedback-reader",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    events = []
    try:
        while not events or events[-1][0] < high - 1:
            message = consumer.poll(5)
            assert message is not None, "feedback topic ended early"
            events.append((message.offset(), feedback_codec().decode(message.value())))
    finally:
        consumer.close()
    return events


def _metrics_file(stack: Pipeline, worker: str) -> Path:
    """Where an attribution worker says its metrics are (a Prometheus discovery target)."""
    return stack.home / "metrics" / f"attribution-{worker}.json"


def _metrics_url(found: Path) -> str:
    (target,) = json.loads(found.read_text())
    return f"http://{target['targets'][0]}/metrics"


def _restart_attribution(stack: Pipeline) -> None:
    pid = stack.group.pids["attribution"]
    os.killpg(pid, signal.SIGKILL)
    _eventually(lambda: stack.group.first_exit(timeout=0), "the killed worker to exit")
    _metrics_file(stack, "1").unlink()
    stack.group.start("attribution", [sys.executable, "-m", "streams.attribution"], stack.env)


def test_every_break_is_attributed_and_every_decision_recorded(
    stack: Pipeline, truth: dict[str, str]
) -> None:
    breaks = stack.breaks()
    assert len(breaks) == TRADES
    assert set(truth.values()) >= {"TIMING", "FX", "FEE", "MISSING_BOOKING", "DUPLICATE_BOOKING"}
    for b in breaks:
        assert b["cause"] and 0 < b["confidence"] <= 1 and b["explanation"]
        assert b["disposition"] in {"AUTO_CLOSE", "QUEUE", "ESCALATE"} and 1 <= b["priority"] <= 5
    decided = _sql(stack, "SELECT break_id, version, disposition, decided_by FROM decisions")
    # every version attributed has its decision (a slow machine may see a key MISSING before
    # its second file arrives: that break then has a version 2, and two decisions)
    assert {(b["break_id"], b["version"]) for b in breaks} <= {
        (d["break_id"], d["version"]) for d in decided
    }
    assert {d["break_id"] for d in decided} == {b["break_id"] for b in breaks}
    assert {d["decided_by"] for d in decided} == {"model"}
    first = _sql(stack, "SELECT * FROM model_versions ORDER BY version LIMIT 1")[0]
    assert (first["feedback_offset"], first["labels_seen"], first["river_version"]) == (
        0,
        0,
        "0.26.1",
    )


def test_labels_from_the_cli_train_the_model_through_the_feedback_topic(
    stack: Pipeline, truth: dict[str, str], tmp_path: Path
) -> None:
    labels = sorted(truth.items())[:40]
    out = stack.cli("breaks", "label", "--file", str(_label_file(tmp_path / "l.jsonl", labels)))
    assert len(out.stdout.splitlines()) == 40
    one_id, one_cause = sorted(truth.items())[40]
    stack.cli("breaks", "label", one_id, one_cause)
    version = _checkpointed(stack, 41)
    assert version["labels_seen"] == 41
    assert version["metrics"]["labels"] == dict(Counter([c for _, c in labels] + [one_cause]))
    stored = {b["break_id"]: b for b in stack.breaks()}
    assert all(stored[b]["cause"] == c and stored[b]["confidence"] == 1.0 for b, c in labels)
    assert stored[one_id]["explanation"][0]["feature"] == "analyst_label"


def test_a_second_worker_holds_the_same_model(
    stack: Pipeline, truth: dict[str, str], tmp_path: Path
) -> None:
    stack.group.start(
        "attribution-2",
        [sys.executable, "-m", "streams.attribution"],
        {**stack.env, "GREENAI_WORKER_ID": "2"},
    )
    found = [_metrics_file(stack, w) for w in ("1", "2")]
    _eventually(found[1].exists, "the second worker's metrics")
    stack.cli("breaks", "label", *sorted(truth.items())[41])
    urls = [_metrics_url(f) for f in found]

    def same_model() -> bool:
        seen = [httpx.get(u, timeout=5).text for u in urls]
        offsets = {_metric(t, "feedback_offset", prefix="greenai_attribution_") for t in seen}
        labels = {_metric(t, "labels") for t in seen}
        return offsets == {42.0} and labels == {42.0}

    _eventually(same_model, "both workers to fold the same 42 labels")
    assert "loaded (feedback offset" in stack.group.log_path("attribution-2").read_text()


def test_a_killed_worker_neither_forgets_nor_learns_a_label_twice(
    stack: Pipeline, truth: dict[str, str], tmp_path: Path
) -> None:
    more = sorted(truth.items())[42:70]
    stack.cli("breaks", "label", "--file", str(_label_file(tmp_path / "a.jsonl", more[:15])))
    _restart_attribution(stack)  # SIGKILL, possibly before it checkpointed those labels
    stack.cli("breaks", "label", "--file", str(_label_file(tmp_path / "b.jsonl", more[15:])))
    version = _checkpointed(stack, 42 + len(more))
    assert version["labels_seen"] == 42 + len(more)
    assert max(v["labels_seen"] for v in _sql(stack, "SELECT * FROM model_versions")) == 70

    # The checkpoint is exactly the fold of the feedback log: same counts, same weights.
    rebuilt = Learner()
    for offset, event in _feedback_log(stack):
        rebuilt.apply(offset, event, lambda v: b"")
    worker = loads(bytes(version["state"]))
    assert worker.next_offset == rebuilt.next_offset == 70
    assert worker.part.labels == rebuilt.part.labels
    mine, theirs = rebuilt.attributor.model.compiled, worker.attributor.model.compiled
    assert np.array_equal(mine.seen, theirs.seen) and np.array_equal(mine.w_num, theirs.w_num)

    # The restarted worker itself resumed from a checkpoint and holds exactly 70 labels.
    found = _metrics_file(stack, "1")
    _eventually(found.exists, "the restarted worker's metrics")
    url = _metrics_url(found)
    _eventually(
        lambda: (
            _metric(httpx.get(url, timeout=5).text, "feedback_offset", "greenai_attribution_") == 70
        ),
        "the restarted worker to catch up",
    )
    assert _metric(httpx.get(url, timeout=5).text, "labels") == 70
    assert "loaded (feedback offset" in stack.group.log_path("attribution").read_text()


def test_the_api_label_reverses_an_automatic_decision(
    stack: Pipeline, truth: dict[str, str]
) -> None:
    auto = [b for b in stack.breaks() if b["disposition"] == "AUTO_CLOSE"]
    assert auto, "the generated feed has small rounding breaks the Discriminator auto-closes"
    target = auto[0]["break_id"]
    ana, bo = _analyst(stack, "ana"), _analyst(stack, "bo")
    response = ana.post(f"/api/breaks/{target}/label", json={"cause": "FAT_FINGER"})
    response.raise_for_status()
    outcome = response.json()
    assert outcome["reversed"] and outcome["previous_disposition"] == "AUTO_CLOSE"
    assert outcome["disposition"] in {"QUEUE", "ESCALATE"}
    stored = stack.api(f"/api/breaks/{target}")
    assert (stored["cause"], stored["disposition"]) == ("FAT_FINGER", outcome["disposition"])
    decision = _current_decision(stack, target)
    assert decision["reversed_by"] == "ana" and decision["reversed_to"] == outcome["disposition"]

    reversed_again = bo.post(
        f"/api/breaks/{target}/reverse",
        json={"disposition": "ESCALATE", "reason": "client complained"},
    ).json()
    assert reversed_again["disposition"] == "ESCALATE"
    decision = _current_decision(stack, target)
    assert (decision["reversed_by"], decision["reversal_reason"]) == ("bo", "client complained")
    assert ana.post("/api/breaks/b-nope/label", json={"cause": "FEE"}).status_code == 404
    assert ana.post(f"/api/breaks/{target}/label", json={"cause": "NOPE"}).status_code == 422


def _current_decision(stack: Pipeline, break_id: str) -> dict[str, Any]:
    """The decision of the break's current version (a slow run may have decided an older)."""
    version = stack.api(f"/api/breaks/{break_id}")["version"]
    (decision,) = [
        d for d in stack.api(f"/api/breaks/{break_id}/decisions") if d["version"] == version
    ]
    return decision


def _analyst(stack: Pipeline, name: str) -> httpx.Client:
    """A client signed in with the API token of a new analyst ``name``."""
    with stack.http() as admin:
        admin.post("/api/users", json={"username": name, "roles": ["analyst"]})
        token = admin.post("/api/tokens", json={"username": name, "name": "test"}).json()
    return httpx.Client(
        base_url=stack.bff_url, headers={"Authorization": f"Bearer {token['token']}"}, timeout=30
    )


def test_the_cli_reverses_a_decision(stack: Pipeline, truth: dict[str, str]) -> None:
    target = next(b for b in stack.breaks() if b["disposition"] == "QUEUE")["break_id"]
    out = stack.cli("breaks", "reverse", target, "--to", "ESCALATE", "--reason", "urgent")
    assert "decision reversed: QUEUE -> ESCALATE" in out.stdout
    history = json.loads(stack.cli("breaks", "decisions", target).stdout)
    assert history[-1]["reversed_to"] == "ESCALATE"
    assert stack.api(f"/api/breaks/{target}")["disposition"] == "ESCALATE"


def test_rollback_returns_every_worker_to_a_stored_version(stack: Pipeline) -> None:
    listed = json.loads(stack.cli("model", "versions", "--json").stdout)
    assert listed[-1]["labels_seen"] == 0 and "state" not in listed[-1]
    prior = listed[-1]["version"]
    stack.cli("model", "rollback", str(prior), "--reason", "test")
    after = _checkpointed(stack, len(_feedback_log(stack)))  # the rollback is the last event
    assert (after["labels_seen"], after["based_on"]) == (0, prior)
    assert stack.cli("model", "rollback", "999999", check=False).returncode == 1


def test_drift_in_the_models_errors_raises_an_alert_and_a_metric(
    stack: Pipeline, truth: dict[str, str], tmp_path: Path
) -> None:
    right = sorted(truth.items())
    wrong = [(b, "UNKNOWN") for b, _ in right[:60]]
    stack.cli("breaks", "label", "--file", str(_label_file(tmp_path / "r.jsonl", right * 2)))
    stack.cli("breaks", "label", "--file", str(_label_file(tmp_path / "w.jsonl", wrong)))
    topic = f"{stack.env['GREENAI_TOPIC_PREFIX']}.alerts"
    consumer = Consumer(
        {
            "bootstrap.servers": stack.env["KAFKA_BOOTSTRAP_SERVERS"],
            "group.id": "alert-reader",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    try:
        message = _eventually(
            lambda: (m := consumer.poll(1)) is not None and not m.error() and m, "a drift alert"
        )
    finally:
        consumer.close()
    alert = codec("Alert").decode(message.value())
    assert alert["kind"] == "MODEL_DRIFT" and alert["alert_id"].startswith("model-drift@")
    assert "error rate" in alert["message"]
    url = _metrics_url(_metrics_file(stack, "1"))
    scraped = _eventually(
        lambda: (t := httpx.get(url, timeout=5).text) and _metric(t, "drifts") >= 1 and t,
        "the drift in the metrics",
    )
    assert _metric(scraped, "labels") > 0


def test_a_corrupt_checkpoint_falls_back_to_the_previous_good_version(stack: Pipeline) -> None:
    """Damaged model state is never unpickled: the worker loads the version before it, replays
    the feedback since, and the next checkpoint at that offset repairs the damaged row."""
    newest, previous = _sql(
        stack,
        "SELECT version, feedback_offset FROM model_versions "
        "ORDER BY feedback_offset DESC, version DESC LIMIT 2",
    )
    _sql(
        stack,
        "UPDATE model_versions SET state = %s WHERE version = %s RETURNING version",
        b"\x80\x04not a model",
        newest["version"],
    )
    _restart_attribution(stack)
    log = stack.group.log_path("attribution")
    _eventually(
        lambda: f"model version {previous['version']} loaded" in log.read_text(),
        "the worker to load the previous good version",
    )
    assert f"model version {newest['version']} fails its integrity check" in log.read_text()
    repaired = _eventually(
        lambda: next(
            iter(
                _sql(
                    stack,
                    "SELECT version FROM model_versions WHERE version = %s "
                    "AND state_sha256 = encode(sha256(state), 'hex')",
                    newest["version"],
                )
            ),
            None,
        ),
        "the damaged version to be repaired by the next checkpoint",
    )
    assert repaired["version"] == newest["version"]
    assert stack.group.first_exit(timeout=0) is None, "the worker crash-looped"


def _metric(text: str, name: str, prefix: str = "greenai_attribution_model_") -> float:
    line = next(line for line in text.splitlines() if line.startswith(f"{prefix}{name} "))
    return float(line.split()[1])
