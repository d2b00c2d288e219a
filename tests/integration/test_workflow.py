"""The exception workflow on the real stack: every action goes through the BFF (authorised,
audited), the commands topic and the diff worker that owns the break, and comes back as the
break's next revision — stored, in its history, and on the live stream."""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from psycopg.rows import dict_row

from greenai.localstack import ServerUrls
from greenai.up import DEMO_RECON
from streams.avro import codec
from streams.commands import Target, encode, message_key, new_id
from streams.domain.workflow import Action, Command
from streams.ingest.synthetic import TradeGenerator
from streams.kafka import SafeProducer
from streams.topics import Topics
from tests.integration.oracle import compare, expected_breaks, records_in_kafka
from tests.integration.pipeline import GREENAI, Pipeline, start_pipeline
from tests.integration.sse import SseRecorder

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

PASSWORD = "a long and unusual passphrase"
THRESHOLD = Decimal("1000")
PEOPLE = {
    "ana": ["analyst"],
    "bob": ["analyst"],
    "chloe": ["approver"],
    "dual": ["analyst", "approver"],
}


@pytest.fixture(scope="module")
def stack(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    home = tmp_path_factory.mktemp("workflow")
    running = start_pipeline(servers, home, "wf")
    try:
        work = tmp_path_factory.mktemp("workflow-data")
        recon = yaml.safe_load(DEMO_RECON.read_text()) | {
            "name": "ops",
            "match_window": "2s",
            "workflow": {
                "approval_threshold": str(THRESHOLD),
                "timezone": "Europe/London",
                "calendar": {"country": "GB"},
                "sla": {"default": "3d", "FX": "2d"},
            },
        }
        (work / "ops.yaml").write_text(yaml.safe_dump(recon, sort_keys=False))
        running.cli("recon", "apply", str(work / "ops.yaml"))
        with running.http() as admin:
            for name, roles in PEOPLE.items():
                made = admin.post(
                    "/api/users", json={"username": name, "roles": roles, "password": PASSWORD}
                )
                assert made.status_code == 201, made.text
        generator = TradeGenerator(seed=31, break_rate=0.6, variety=True)
        running.publish("ops", [generator.pair() for _ in range(400)])
        running.cli("wait", "--timeout", "120", timeout=180)
        yield running
    finally:
        running.group.stop_all()


def person(stack: Pipeline, name: str) -> httpx.Client:
    """An API client acting as ``name`` (an API token of their own)."""
    with stack.http() as admin:
        made = admin.post("/api/tokens", json={"username": name, "name": f"{name}-tests"})
        assert made.status_code == 201, made.text
    token = made.json()["token"]
    return httpx.Client(
        base_url=stack.bff_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def act(client: httpx.Client, break_id: str, action: str, **fields: Any) -> httpx.Response:
    return client.post(f"/api/breaks/{break_id}/actions?wait=20", json={"action": action, **fields})


def applied(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["applied"], body
    return body


def breaks(stack: Pipeline, status: str = "open") -> list[dict[str, Any]]:
    return stack.api(f"/api/breaks?recon=ops&status={status}")


def pick(stack: Pipeline, test: Callable[[dict[str, Any]], bool], n: int = 1) -> list[str]:
    """Open breaks nobody has touched, passing ``test``; each test takes its own."""
    found = [
        b["break_id"]
        for b in breaks(stack)
        if b["revision"] == 0 and b["status"] == "OPEN" and test(b) and b["break_id"] not in TAKEN
    ][:n]
    assert len(found) == n, f"the feed gives {len(found)} such breaks, the test needs {n}"
    TAKEN.update(found)
    return found


TAKEN: set[str] = set()


def material(b: dict[str, Any]) -> bool:
    return b["materiality"] is not None and Decimal(b["materiality"]) > THRESHOLD


def small(b: dict[str, Any]) -> bool:
    return b["materiality"] is not None and Decimal(b["materiality"]) <= THRESHOLD


def sql(stack: Pipeline, query: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(stack.owner_url, row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()


def test_every_break_is_aged_and_due_in_its_recons_calendar(stack: Pipeline) -> None:
    listed = breaks(stack, "all")
    assert listed
    for b in listed:
        assert b["due"] is not None and b["materiality"] is not None
        assert b["age_days"] == 0 and b["ageing_bucket"] == "0-1"
        assert b["overdue"] is False
    fx = [b for b in listed if b["cause"] == "FX"]
    others = [b for b in listed if b["cause"] not in ("FX", None)]
    assert fx and others  # FX breaks are due in 2 business days, the others in 3
    assert max(b["due"] > b["first_seen"] for b in fx)


def test_an_analysts_actions_come_back_as_revisions_live_and_audited(stack: Pipeline) -> None:
    (break_id,) = pick(stack, lambda b: True)
    ana = person(stack, "ana")
    token = ana.headers["Authorization"][len("Bearer ") :]
    live = SseRecorder(f"{stack.bff_url}/api/stream", token)
    live.start()
    assert live.ready.wait(20)
    applied(act(ana, break_id, "take"))
    applied(act(ana, break_id, "comment", text="custodian says it settles tomorrow"))
    applied(act(ana, break_id, "tag", add=["eod", "custodian"]))
    applied(act(ana, break_id, "review"))
    stored = ana.get(f"/api/breaks/{break_id}").json()
    assert (stored["owner"], stored["status"], stored["tags"]) == (
        "ana",
        "IN_REVIEW",
        ["custodian", "eod"],
    )
    assert stored["revision"] == 4 and stored["activity"]["action"] == "REVIEW"
    comments = ana.get(f"/api/breaks/{break_id}/comments").json()
    assert [(c["by"], c["text"]) for c in comments] == [
        ("ana", "custodian says it settles tomorrow")
    ]
    changes = ana.get(f"/api/breaks/{break_id}/history").json()
    assert [c["action"] for c in changes] == [None, "TAKE", "COMMENT", "TAG", "REVIEW"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _revisions(live, break_id) >= {1, 2, 3, 4}:
        time.sleep(0.1)
    live.stop()
    assert _revisions(live, break_id) >= {1, 2, 3, 4}
    trail = stack.api(f"/api/breaks/{break_id}/audit")
    actions = [e["action"] for e in trail]
    assert actions == ["break.take", "break.comment", "break.tag", "break.review"]
    assert all(e["actor"] == "ana" for e in trail)


def _revisions(live: SseRecorder, break_id: str) -> set[int]:
    return {d["revision"] for e, _, d in live.events if e == "break" and d["break_id"] == break_id}


def test_a_close_above_the_threshold_is_a_proposal_another_user_approves(
    stack: Pipeline,
) -> None:
    (break_id,) = pick(stack, material)
    ana, dual, chloe = person(stack, "ana"), person(stack, "dual"), person(stack, "chloe")
    refused = act(ana, break_id, "close", reason="TIMING_ACCEPTED")
    assert refused.status_code == 409 and "needs approval" in refused.json()["detail"]
    assert act(ana, break_id, "approve").status_code == 403  # analysts do not approve
    applied(act(dual, break_id, "propose", reason="TIMING_ACCEPTED", note="settles T+1"))
    pending = {b["break_id"]: b for b in chloe.get("/api/approvals").json()}
    assert pending[break_id]["proposal"]["by"] == "dual"
    own = act(dual, break_id, "approve")
    assert own.status_code == 409 and "own proposal" in own.json()["detail"]
    applied(act(chloe, break_id, "approve"))
    closed = chloe.get(f"/api/breaks/{break_id}").json()
    assert (closed["status"], closed["close_reason"], closed["closed_by"]) == (
        "CLOSED",
        "TIMING_ACCEPTED",
        "dual",
    )
    assert closed["approved_by"] == "chloe" and closed["proposal"] is None
    assert break_id not in {b["break_id"] for b in chloe.get("/api/approvals").json()}


def test_a_write_off_is_approved_and_a_rejected_proposal_leaves_the_break_open(
    stack: Pipeline,
) -> None:
    off, kept = pick(stack, lambda b: True, n=2)
    bob, chloe = person(stack, "bob"), person(stack, "chloe")
    amount = "12.34"
    no_amount = act(bob, off, "propose", proposal="WRITE_OFF", reason="OTHER")
    assert no_amount.status_code == 422 and "amount" in no_amount.json()["detail"]
    applied(act(bob, off, "propose", proposal="WRITE_OFF", reason="OTHER", amount=amount))
    applied(act(chloe, off, "approve"))
    written = chloe.get(f"/api/breaks/{off}").json()
    assert (written["status"], written["close_reason"], written["written_off"]) == (
        "CLOSED",
        "WRITTEN_OFF",
        amount,
    )
    applied(act(bob, kept, "propose", reason="DUPLICATE"))
    assert act(chloe, kept, "reject").status_code == 422  # a reason is required
    applied(act(chloe, kept, "reject", reason="not a duplicate: two trades"))
    rejected = chloe.get(f"/api/breaks/{kept}").json()
    assert (rejected["status"], rejected["proposal"]) == ("OPEN", None)


def test_a_closed_break_reopens_and_new_data_reopens_it_too(stack: Pipeline) -> None:
    (break_id,) = pick(stack, lambda b: small(b) and b["kind"] == "MISMATCH")
    bob = person(stack, "bob")
    applied(act(bob, break_id, "close", reason="OTHER", note="checked with the desk"))
    assert act(bob, break_id, "close", reason="OTHER").status_code == 409
    applied(act(bob, break_id, "reopen", reason="the desk was wrong"))
    reopened = bob.get(f"/api/breaks/{break_id}").json()
    assert (reopened["status"], reopened["keep_open"], reopened["close_reason"]) == (
        "OPEN",
        True,
        None,
    )
    assert act(bob, break_id, "reopen", reason="again").status_code == 409  # not CLOSED
    applied(act(bob, break_id, "close", reason="OTHER"))
    before = bob.get(f"/api/breaks/{break_id}").json()
    _amend(stack, before)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = bob.get(f"/api/breaks/{break_id}").json()
        if now["version"] > before["version"]:
            break
        time.sleep(0.2)
    assert now["version"] == before["version"] + 1 and now["status"] == "OPEN"
    assert now["close_reason"] is None and now["owner"] == before["owner"]


def _amend(stack: Pipeline, brk: dict[str, Any]) -> None:
    """The custodian amends its record of a break: a different amount."""
    rename = yaml.safe_load(DEMO_RECON.read_text())["sources"]["custody"]["rename"]
    column = {canonical: name for name, canonical in rename.items()}
    record = dict(brk["records"]["custody"])
    record["amount"] = str(Decimal(record["amount"]) + Decimal("1000.01"))
    row = {column.get(k, k): v or "" for k, v in record.items()}
    work = stack.home / "amend.csv"
    work.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n")
    stack.cli("ingest", "file", "--recon", "ops", "--source", "custody", str(work))


def test_auto_closed_breaks_are_closed_by_rule_and_a_person_reopens_them(
    stack: Pipeline,
) -> None:
    auto = [b for b in breaks(stack, "all") if b["disposition"] == "AUTO_CLOSE"]
    assert auto, "the feed gives no break The Discriminator auto-closes"
    assert all(b["status"] in ("CLOSED", "RESOLVED") for b in auto)
    closed = [b for b in auto if b["status"] == "CLOSED"]
    assert all(b["close_reason"] == f"auto:{b['cause']}" for b in closed)
    assert all(b["closed_by"] is None for b in closed)
    target = closed[0]["break_id"]
    bob = person(stack, "bob")
    applied(act(bob, target, "reopen", reason="rounding is not the cause"))
    reopened = bob.get(f"/api/breaks/{target}").json()
    assert (reopened["status"], reopened["disposition"]) == ("OPEN", "AUTO_CLOSE")


def test_a_selection_is_all_or_nothing_with_one_audit_entry_per_break(stack: Pipeline) -> None:
    selection = pick(stack, lambda b: True, n=40)
    ana = person(stack, "ana")
    refused = ana.post(
        "/api/breaks/actions",
        json={"action": "assign", "to": "nobody-by-that-name", "break_ids": selection},
    )
    assert refused.status_code == 422
    mixed = ana.post(
        "/api/breaks/actions", json={"action": "take", "break_ids": [*selection, "b-none"]}
    )
    assert mixed.status_code == 404
    assert all(b["revision"] == 0 for b in _stored(stack, selection))  # nothing was sent
    done = ana.post(
        "/api/breaks/actions?wait=30",
        json={"action": "assign", "to": "team:fx-desk", "break_ids": selection},
    )
    assert done.status_code == 202 and all(a["applied"] for a in done.json()["accepted"])
    assert {b["owner"] for b in _stored(stack, selection)} == {"team:fx-desk"}
    entries = sql(
        stack,
        "SELECT target_id FROM audit_log WHERE action = 'break.assign' AND actor = 'ana'",
    )
    assert Counter(e["target_id"] for e in entries) == Counter(selection)


def _stored(stack: Pipeline, ids: list[str]) -> list[dict[str, Any]]:
    wanted = set(ids)
    return [b for b in breaks(stack, "all") if b["break_id"] in wanted]


def test_the_api_refuses_what_a_role_may_not_do(stack: Pipeline) -> None:
    (break_id,) = pick(stack, lambda b: True)
    chloe, ana = person(stack, "chloe"), person(stack, "ana")
    assert act(chloe, break_id, "take").status_code == 403
    assert act(chloe, break_id, "comment", text="x").status_code == 403
    assert ana.get("/api/approvals").status_code == 403
    escalate = ana.post(f"/api/breaks/{break_id}/actions", json={"action": "escalate"})
    assert escalate.status_code == 422  # the scheduler's, not a person's


def test_a_command_the_owner_refuses_is_dead_lettered_with_its_reason(stack: Pipeline) -> None:
    resolved = [b for b in breaks(stack, "all") if b["status"] == "RESOLVED"]
    target = resolved[0] if resolved else breaks(stack, "all")[0]
    topics = Topics(stack.env["GREENAI_TOPIC_PREFIX"])
    producer = SafeProducer(stack.env["KAFKA_BOOTSTRAP_SERVERS"], security=stack.kafka_security)
    stale = Target("ops", target["key"], "b-not-the-current-one")
    cmd = Command(new_id(), Action.TAKE, "mallory", _now())
    producer.send(topics.commands, message_key(stale), encode(stale, cmd))
    producer.flush()
    stack.cli("wait", "--timeout", "60")
    letters = _dead_letters(stack)
    assert any(
        "TAKE by mallory refused" in d["reason"] and "not the current break" in d["reason"]
        for d in letters
    ), letters[-3:]


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _dead_letters(stack: Pipeline) -> list[dict[str, Any]]:
    from confluent_kafka import Consumer, TopicPartition

    topic = Topics(stack.env["GREENAI_TOPIC_PREFIX"]).deadletter
    consumer = Consumer(
        {"bootstrap.servers": stack.env["KAFKA_BOOTSTRAP_SERVERS"], "group.id": new_id()}
    )
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, low)])
        out = []
        while len(out) < high - low:
            for m in consumer.consume(500, timeout=2):
                if not m.error():
                    out.append(codec("DeadLetter").decode(m.value()))
        return out
    finally:
        consumer.close()


def test_actions_during_a_feed_of_thousands_of_trades_all_land_and_change_no_data(
    stack: Pipeline, tmp_path: Path
) -> None:
    """2,000 trades with 2 s match windows while an analyst tags every break she sees, as
    it appears: every tag is applied exactly once, and the breaks' data is the oracle's."""
    recon = yaml.safe_load(DEMO_RECON.read_text()) | {"name": "busy", "match_window": "2s"}
    (tmp_path / "busy.yaml").write_text(yaml.safe_dump(recon, sort_keys=False))
    stack.cli("recon", "apply", str(tmp_path / "busy.yaml"))
    generator = TradeGenerator(seed=5, break_rate=0.3, variety=True)
    pairs = [generator.pair() for _ in range(2000)]
    feeding = threading.Thread(target=stack.publish, args=("busy", pairs, 400))
    feeding.start()
    ana = person(stack, "ana")
    tagged: set[str] = set()
    while feeding.is_alive() or len(tagged) < 100:
        seen = stack.api("/api/breaks?recon=busy&status=all")
        fresh = [b["break_id"] for b in seen if b["break_id"] not in tagged][:200]
        if fresh:
            sent = ana.post(
                "/api/breaks/actions", json={"action": "tag", "add": ["seen"], "break_ids": fresh}
            )
            assert sent.status_code == 202, sent.text
            tagged |= set(fresh)
        elif not feeding.is_alive():
            break
        time.sleep(0.3)
    feeding.join()
    stack.cli("wait", "--timeout", "180", timeout=240)
    stored = stack.api("/api/breaks?recon=busy&status=all")
    by_id = {b["break_id"]: b for b in stored}
    assert tagged and all(by_id[b]["tags"] == ["seen"] for b in tagged)
    history = sql(
        stack,
        "SELECT break_id, count(*) AS n FROM break_history WHERE recon = 'busy'"
        " AND action = 'TAG' GROUP BY break_id",
    )
    assert {h["break_id"]: h["n"] for h in history} == dict.fromkeys(tagged, 1)
    messages = records_in_kafka(
        stack.env["KAFKA_BOOTSTRAP_SERVERS"], Topics(stack.env["GREENAI_TOPIC_PREFIX"]).records
    )
    from streams.recon import Recon

    expected = expected_breaks(Recon.model_validate(recon), messages)
    assert compare(expected, stored) == []


def test_the_command_line_takes_comments_proposes_and_approves(stack: Pipeline) -> None:
    first, second = pick(stack, lambda b: True, n=2)

    def greenai(person_name: str, *args: str) -> str:
        client = person(stack, person_name)
        token = client.headers["Authorization"][len("Bearer ") :]
        done = subprocess.run(
            [*GREENAI, *args],
            env={**stack.env, "GREENAI_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert greenai("ana", "breaks", "take", first, second).splitlines() == [
        f"{first} TAKE applied",
        f"{second} TAKE applied",
    ]
    greenai("ana", "breaks", "comment", first, "desk confirms the fee")
    assert "ana: desk confirms the fee" in greenai("ana", "breaks", "comments", first)
    greenai("ana", "breaks", "propose", first, "--reason", "OTHER", "--write-off", "1.50")
    assert f"{first} ops write off 1.50 (OTHER) proposed by ana" in greenai(
        "chloe", "breaks", "approvals"
    )
    greenai("chloe", "breaks", "approve", first)
    history = greenai("ana", "breaks", "history", first)
    assert "APPROVE by chloe" in history and "CLOSED" in history
    refused = subprocess.run(
        [*GREENAI, "breaks", "close", second, "--reason", "WRITTEN_OFF"],
        env={**stack.env, "GREENAI_TOKEN": person(stack, "ana").headers["Authorization"][7:]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "propose" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
