"""Alert subscribers against the real stack: thousands of alerts (some repeated, from two
producers at once) to signed webhooks and a real SMTP server (aiosmtpd), with retries, a
delivery log, dead letters after the last try, and a notifier killed mid-stream."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from aiosmtpd.controller import Controller
from confluent_kafka import Consumer, TopicPartition

from greenai.localstack import ServerUrls
from greenai.localstack.ports import free_port
from greenai.up import PROCESSES
from streams.avro import codec
from streams.kafka import SafeProducer
from streams.notify.signing import SIGNATURE, TIMESTAMP, verify
from streams.topics import Topics
from tests.integration.pipeline import Pipeline, start_pipeline

pytestmark = pytest.mark.integration

ALERTS = 2_000
REPEATED = 300  # published twice: subscribers hear of each alert_id once
ATTEMPTS = 4
FLAKY_FAILURES = 2  # /flaky answers 500 this many times per alert, then 200
SURGE = 50  # dead letters of one recon within the window that make an alert
ROOT = Path(__file__).resolve().parents[2]
RECONS = ("trades", "payments", None)
SEVERITIES = ("INFO", "WARNING", "CRITICAL")
KINDS = ("SLA_BREACH", "ESCALATION", "DEAD_LETTER_SURGE", "MODEL_DRIFT")


def alert(n: int) -> dict[str, Any]:
    return {
        "alert_id": f"alert-{n:05d}",
        "kind": KINDS[n % 4],
        "severity": SEVERITIES[n % 3],
        "recon": RECONS[(n // 12) % 3],
        "source": "test",
        "message": f"alert number {n}",
        "details": {"n": str(n)},
        "worker": "test/1",
        "at": datetime.now(UTC),
    }


class Receiver:
    """A real HTTP server that records every webhook call: /ok answers 200, /flaky 500 for
    the first tries of each alert, /down always 503."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        tries: Counter[tuple[str, str]] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                if len(body) < length:  # the notifier was killed while it sent this
                    return
                with receiver.lock:
                    receiver.calls.append((self.path, dict(self.headers), body))
                    tries[self.path, self.headers["X-Greenai-Alert"]] += 1
                    n = tries[self.path, self.headers["X-Greenai-Alert"]]
                if self.path == "/ok" or (self.path == "/flaky" and n > FLAKY_FAILURES):
                    self.send_response(200)
                elif self.path == "/flaky":
                    self.send_response(500)
                else:
                    self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # the notifier calls concurrently (up to 100 at once)

        self.server = Server(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return [(h, b) for p, h, b in self.calls if p == path]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def stack(
    servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory, mailbox: tuple[Mailbox, int]
) -> Iterator[Pipeline]:
    running = start_pipeline(servers, tmp_path_factory.mktemp("alerts"), "alerts")
    running.start(
        "notify",
        PROCESSES["notify"],
        GREENAI_NOTIFY_ATTEMPTS=str(ATTEMPTS),
        GREENAI_NOTIFY_BACKOFF_SECONDS="0.05",
        GREENAI_NOTIFY_BACKOFF_MAX_SECONDS="0.2",
        GREENAI_NOTIFY_BATCH="100",
        GREENAI_NOTIFY_SURGE_THRESHOLD=str(SURGE),
        GREENAI_SMTP_HOST="127.0.0.1",
        GREENAI_SMTP_PORT=str(mailbox[1]),
        GREENAI_SMTP_FROM="greenai@test.example",
    )
    try:
        yield running
    finally:
        running.group.stop_all()


def publish(stack: Pipeline, numbers: list[int]) -> None:
    producer = SafeProducer(stack.env["KAFKA_BOOTSTRAP_SERVERS"], security=stack.kafka_security)
    topic = Topics(stack.env["GREENAI_TOPIC_PREFIX"]).name("alerts")
    for n in numbers:
        a = alert(n)
        producer.send(topic, a["alert_id"].encode(), codec("Alert").encode(a))
    producer.flush()


def publish_concurrently(stack: Pipeline, numbers: list[int]) -> None:
    """Two producers at once, each with half the alerts (and the repeats)."""
    halves = [numbers[0::2], numbers[1::2]]
    threads = [threading.Thread(target=publish, args=(stack, half)) for half in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def final_outcomes(stack: Pipeline) -> dict[tuple[str, str], tuple[str, int]]:
    """(subscription, alert_id) -> (final outcome, its attempt)."""
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT s.name, d.alert_id, d.outcome, d.attempt FROM alert_deliveries d"
            " JOIN alert_subscriptions s USING (subscription_id) WHERE d.outcome <> 'FAILED'"
        ).fetchall()
    return {(name, alert_id): (outcome, attempt) for name, alert_id, outcome, attempt in rows}


def wait_for(stack: Pipeline, expected: int, timeout: float = 300) -> dict[Any, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = final_outcomes(stack)
        if len(found) >= expected:
            return found
        exited = stack.group.first_exit(timeout=0)
        assert exited is None, exited
        assert time.monotonic() < deadline, f"{len(found)} of {expected} deliveries ended"
        time.sleep(0.5)


def dead_letters(stack: Pipeline) -> list[dict[str, Any]]:
    topic = Topics(stack.env["GREENAI_TOPIC_PREFIX"]).deadletter
    consumer = Consumer(
        {
            "bootstrap.servers": stack.env["KAFKA_BOOTSTRAP_SERVERS"],
            "group.id": f"{topic}-reader-{time.time_ns()}",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in metadata])
        letters, quiet = [], 0
        while quiet < 3:
            batch = consumer.consume(500, timeout=1.0)
            quiet = 0 if batch else quiet + 1
            letters += [codec("DeadLetter").decode(m.value()) for m in batch if not m.error()]
        return letters
    finally:
        consumer.close()


def wanted(numbers: range, *, recons: set[Any] | None = None, **only: set[str]) -> set[str]:
    out = set()
    for n in numbers:
        a = alert(n)
        if recons is not None and a["recon"] not in recons:
            continue
        if all(a[field] in values for field, values in only.items()):
            out.add(a["alert_id"])
    return out


def cli_subscribe(stack: Pipeline, name: str, *args: str) -> dict[str, Any]:
    made: dict[str, Any] = json.loads(
        stack.cli("alerts", "subscribe", name, *args, "--json").stdout
    )
    return made


def test_each_subscriber_hears_of_each_matching_alert_once_by_signed_webhook_or_email(
    stack: Pipeline, receiver: Receiver, mailbox: tuple[Mailbox, int]
) -> None:
    ok, flaky, down = (f"{receiver.url}/{path}" for path in ("ok", "flaky", "down"))
    desk = cli_subscribe(stack, "desk", "--webhook", ok, "--recon", "trades", "--severity=CRITICAL")
    cli_subscribe(stack, "flaky", "--webhook", flaky, "--kind", "SLA_BREACH")
    cli_subscribe(stack, "down", "--webhook", down, "--kind=ESCALATION", "--severity=WARNING")
    cli_subscribe(
        stack, "ops", "--email", "ops@test.example", "--recon", "payments", "--severity=WARNING"
    )
    everything = range(ALERTS)
    to_desk = wanted(everything, recons={"trades"}, severity={"CRITICAL"})
    to_flaky = wanted(everything, kind={"SLA_BREACH"})
    to_down = wanted(everything, kind={"ESCALATION"}, severity={"WARNING"})
    to_ops = wanted(everything, recons={"payments"}, severity={"WARNING"})
    assert min(map(len, (to_desk, to_flaky, to_down, to_ops))) > 100

    publish_concurrently(stack, [*everything, *range(0, ALERTS, ALERTS // REPEATED)])
    found = wait_for(stack, len(to_desk) + len(to_flaky) + len(to_down) + len(to_ops))

    # the desk: each of its alerts once, signed with its secret
    calls = receiver.received("/ok")
    assert Counter(h["X-Greenai-Alert"] for h, _ in calls) == Counter(to_desk)
    for headers, body in calls:
        stamp = int(headers[TIMESTAMP])
        assert verify(desk["secret"], stamp, body, headers[SIGNATURE], now=time.time())
        sent = json.loads(body)
        assert sent["recon"] == "trades" and sent["severity"] == "CRITICAL"
        assert sent["subscription"] == "desk"
    # the flaky receiver: two failures, then delivered, every attempt logged
    assert Counter(h["X-Greenai-Alert"] for h, _ in receiver.received("/flaky")) == Counter(
        {a: FLAKY_FAILURES + 1 for a in to_flaky}
    )
    assert {a: found["flaky", a] for a in to_flaky} == {
        a: ("DELIVERED", FLAKY_FAILURES + 1) for a in to_flaky
    }
    # the receiver that is down: every try, then DEAD and a dead letter with the reason
    assert len(receiver.received("/down")) == ATTEMPTS * len(to_down)
    assert {a: found["down", a] for a in to_down} == {a: ("DEAD", ATTEMPTS) for a in to_down}
    letters = [d for d in dead_letters(stack) if d["stage"] == "notify"]
    assert sorted(json.loads(d["raw"])["alert_id"] for d in letters) == sorted(to_down)
    assert all("HTTP 503" in d["reason"] and "after 4 tries" in d["reason"] for d in letters)
    # e-mail through the real SMTP server
    box, _ = mailbox
    mails = [message_from_bytes(m) for m in box.messages]
    assert Counter(m["X-Greenai-Alert"] for m in mails) == Counter(to_ops)
    assert all(m["To"] == "ops@test.example" for m in mails)
    assert all(m["Subject"].startswith("[greenai] WARNING ") for m in mails)
    # the delivery log through the CLI
    shown = json.loads(
        stack.cli(
            "alerts", "deliveries", "--subscription", "flaky", "--limit", "5000", "--json"
        ).stdout
    )
    assert Counter(d["outcome"] for d in shown) == Counter(
        {"FAILED": FLAKY_FAILURES * len(to_flaky), "DELIVERED": len(to_flaky)}
    )


def test_a_notifier_killed_mid_stream_loses_no_delivery_and_logs_each_once(
    stack: Pipeline, receiver: Receiver
) -> None:
    cli_subscribe(stack, "audit-desk", "--webhook", f"{receiver.url}/ok", "--recon", "payments")
    numbers = range(ALERTS, ALERTS + 3_000)
    expected = wanted(numbers, recons={"payments"})
    before = len(final_outcomes(stack))
    publisher = threading.Thread(target=publish_concurrently, args=(stack, list(numbers)))
    publisher.start()
    time.sleep(1.0)
    stack.kill("notify")  # SIGKILL, then started again from the committed offsets
    publisher.join()
    also = (
        wanted(numbers, recons={"trades"}, severity={"CRITICAL"}),  # desk
        wanted(numbers, kind={"SLA_BREACH"}),  # flaky
        wanted(numbers, kind={"ESCALATION"}, severity={"WARNING"}),  # down
        wanted(numbers, recons={"payments"}, severity={"WARNING"}),  # ops
    )
    found = wait_for(stack, before + len(expected) + sum(map(len, also)))
    assert {a for (name, a) in found if name == "audit-desk"} == expected
    assert all(found["audit-desk", a] == ("DELIVERED", 1) for a in expected)
    told = Counter(
        h["X-Greenai-Alert"]
        for h, body in receiver.received("/ok")
        if json.loads(body)["subscription"] == "audit-desk"
    )
    assert set(told) == expected  # at least once; a second call only for what was in flight
    assert sum(told.values()) - len(expected) <= 100


def test_an_ended_subscription_hears_nothing_more_and_only_admins_manage_them(
    stack: Pipeline, receiver: Receiver
) -> None:
    stack.cli("alerts", "unsubscribe", "desk")
    names = [s["name"] for s in json.loads(stack.cli("alerts", "list", "--json").stdout)]
    assert names == ["audit-desk", "down", "flaky", "ops"]
    ended = [line for line in stack.cli("alerts", "list", "--ended").stdout.splitlines()]
    assert [line.split()[0] for line in ended if line.endswith("(ended)")] == ["desk"]
    desk_calls = len(
        [b for _, b in receiver.received("/ok") if json.loads(b)["subscription"] == "desk"]
    )
    for_desk = [9_002 + 36 * k for k in range(50)]  # what desk took: trades, CRITICAL
    assert all(
        alert(n)["recon"] == "trades" and alert(n)["severity"] == "CRITICAL" for n in for_desk
    )
    marker = 9_002 + 36 * 50 + 12  # a payments alert, after them (one partition: in order)
    assert alert(marker)["recon"] == "payments"
    publish(stack, [*for_desk, marker])
    deadline = time.monotonic() + 60
    while ("audit-desk", alert(marker)["alert_id"]) not in final_outcomes(stack):
        assert time.monotonic() < deadline, "the marker alert was not delivered"
        time.sleep(0.3)
    assert desk_calls == len(
        [b for _, b in receiver.received("/ok") if json.loads(b)["subscription"] == "desk"]
    )
    assert httpx.get(f"{stack.bff_url}/api/alerts/subscriptions").status_code == 401
    with stack.http() as client:
        assert (
            client.post(
                "/api/alerts/subscriptions",
                json={"name": "bad", "channel": "webhook", "target": "ftp://x"},
            ).status_code
            == 422
        )
        assert (
            client.post(
                "/api/alerts/subscriptions",
                json={"name": "flaky", "channel": "email", "target": "a@b.example"},
            ).status_code
            == 409
        )
        nul = client.post(  # PostgreSQL cannot hold it: the request's fault
            "/api/alerts/subscriptions",
            json={"name": "nul", "channel": "email", "target": "a@b.example", "kinds": ["\u0000"]},
        )
        assert nul.status_code == 422 and "NUL" in nul.json()["detail"]
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        trail = conn.execute(
            "SELECT action, target_id, after FROM audit_log"
            " WHERE action LIKE 'alert_subscription.%' ORDER BY seq"
        ).fetchall()
    assert [(a, t) for a, t, _ in trail][-2:] == [
        ("alert_subscription.create", "audit-desk"),
        ("alert_subscription.end", "desk"),
    ]
    assert all("secret" not in (after or {}) for _, _, after in trail)


def test_a_surge_of_dead_letters_from_a_bad_file_is_one_alert_to_its_subscriber(
    stack: Pipeline, receiver: Receiver, tmp_path: Path
) -> None:
    cli_subscribe(stack, "surges", "--webhook", f"{receiver.url}/ok", "--kind=DEAD_LETTER_SURGE")
    stack.cli("recon", "apply", str(ROOT / "examples" / "demo" / "trades.yaml"))
    while time.time() % 300 > 290:  # the letters all fall in one surge window
        time.sleep(1)
    bad = tmp_path / "ledger.csv"
    rows = ["booking_id,trade_id,amount,currency,settle_date,counterparty"]
    rows += [f"B{n},T{n},not-a-number,USD,2026-11-30,GSCO" for n in range(SURGE + 20)]
    bad.write_text("\n".join(rows) + "\n")
    summary = json.loads(
        stack.cli("ingest", "file", "--recon", "trades", "--source", "ledger", str(bad)).stdout
    )
    assert summary["dead_lettered"] == SURGE + 20
    deadline = time.monotonic() + 60
    while not (told := surge_calls(receiver)) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(3)  # a second alert for the same surge would have come by now
    told = surge_calls(receiver)
    assert len(told) == 1, told
    surge = told[0]
    assert surge["kind"] == "DEAD_LETTER_SURGE" and surge["recon"] == "trades"
    assert surge["severity"] == "WARNING"
    assert int(surge["details"]["count"]) == SURGE  # raised when the threshold was reached
    assert "ingest: " in surge["message"]


def surge_calls(receiver: Receiver) -> list[dict[str, Any]]:
    bodies = [json.loads(b) for _, b in receiver.received("/ok")]
    return [b for b in bodies if b["subscription"] == "surges"]
