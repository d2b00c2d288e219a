"""The HTTP API connector against a local JSON API the test serves: cursor and page
pagination, a 500 then success, a timeout then success, a 429 whose Retry-After is waited
out, exact decimals from JSON numbers, and the API token kept out of every output."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from greenai.localstack import ServerUrls
from greenai.localstack.ports import free_port
from tests.integration.connector_servers import Sandbox, sandbox

TOKEN = "tok-" + uuid.uuid4().hex
PAGE = 3


class Api:
    """The scripted API: its data, its one-off failures, and a log of what it was asked."""

    def __init__(self) -> None:
        self.items: list[Any] = [
            {"id": f"H{i}", "amount": f"{i}.10", "day": "2026-11-30"} for i in range(11)
        ]
        self.items[1] = {"id": "H1", "amount": "0.1", "day": "2026-11-30"}
        self.items[2] = {
            "id": "H2",
            "amount": "12345678901234567890.123456789",
            "day": "2026-11-30",
        }
        self.items[4] = {"id": "H4", "amount": "1O.5", "day": "2026-11-30"}  # letter O
        self.items[7] = ["not", "an", "object"]
        self.failures = {("cursor", "c3"): 500, ("cursor", "c6"): 429, ("cursor", "c9"): "slow"}
        self.log: list[tuple[float, str, str, int]] = []  # (time, param, value, status)
        self.lock = threading.Lock()

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any, float]:
        """Status, headers, body, and how long to stall before answering."""
        if path == "/v1/trades":
            cursor = query.get("cursor", "c0")
            start = int(cursor[1:])
            with self.lock:
                failure = self.failures.pop(("cursor", cursor), None)
            if failure == 500:
                return 500, {}, {"error": "boom"}, 0
            if failure == 429:
                return 429, {"Retry-After": "1"}, {"error": "slow down"}, 0
            end = start + PAGE
            following = f"c{end}" if end < len(self.items) else None
            body = {"data": self.items[start:end], "meta": {"next": following}}
            # "slow": longer than the connector's 0.4s timeout
            return 200, {}, body, 1.0 if failure == "slow" else 0
        if path == "/v1/pages":
            page, size = int(query["page"]), int(query["per_page"])
            return 200, {}, {"results": self.items[(page - 1) * size : page * size]}, 0
        return 404, {}, {"error": "no such path"}, 0


def _raw_json(value: Any) -> bytes:
    """JSON with the decimal strings of "amount" written as bare JSON numbers."""
    text = json.dumps(value)
    items = (value.get("data") or value.get("results") or []) if isinstance(value, dict) else []
    for item in items:
        if isinstance(item, dict) and item.get("amount", "").replace(".", "").isdigit():
            text = text.replace(f'"amount": "{item["amount"]}"', f'"amount": {item["amount"]}')
    return text.encode()


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[Api, str]]:
    state = Api()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            headers: dict[str, str]
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, headers, body, stall = 401, {}, {"error": "who are you"}, 0.0
            else:
                status, headers, body, stall = state.answer(url.path, query)
            param = "cursor" if url.path == "/v1/trades" else "page"
            state.log.append((time.monotonic(), param, query.get(param, ""), status))
            time.sleep(stall)
            data = _raw_json(body)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def box(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory, api: Any) -> Sandbox:
    _, base = api
    env = sandbox(servers, tmp_path_factory.mktemp("http"), "http")
    common = (
        "headers_env: {Authorization: CUSTODIAN_AUTH}, timeout: 0.4s, max_retries: 4, backoff: 0.1s"
    )
    env.apply(
        f"""
name: api
key: [trade_id]
sources:
  custodian:
    rename: {{id: trade_id, day: settle_date}}
    connector: {{type: http, url: '{base}/v1/trades', items: data,
                pagination: {{type: cursor, next_cursor: meta.next}}, {common}}}
    fields: {{trade_id: string, amount: decimal, settle_date: date}}
  broker:
    rename: {{id: trade_id, day: settle_date}}
    connector: {{type: http, url: '{base}/v1/pages', items: results,
                pagination: {{type: page, size_param: per_page, size: 4}}, {common}}}
    fields: {{trade_id: string, amount: decimal, settle_date: date}}
"""
    )
    env.env["CUSTODIAN_AUTH"] = f"Bearer {TOKEN}"
    return env


def _run(box: Sandbox, source: str) -> list[dict[str, Any]]:
    done = box.cli("ingest", "run", "--recon", "api", "--source", source, "--once")
    assert TOKEN not in done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _published(box: Sandbox, source: str) -> Counter[str]:
    return Counter(r["key"]["trade_id"] for r in box.records() if r["source"] == source)


def test_cursor_pages_survive_a_500_a_timeout_and_a_429_and_keep_decimals_exact(
    box: Sandbox, api: tuple[Api, str]
) -> None:
    state, base = api
    (summary,) = _run(box, "custodian")
    assert (summary["read"], summary["published"], summary["dead_lettered"]) == (11, 9, 2)
    assert summary["pages"] == 4

    asked = [(value, status) for _, param, value, status in state.log if param == "cursor"]
    assert asked.count(("c3", 500)) == 1 and asked.count(("c3", 200)) == 1
    assert asked.count(("c6", 429)) == 1 and asked.count(("c6", 200)) == 1
    assert sum(1 for value, _ in asked if value == "c9") == 2  # timed out once, then answered
    limited = next(t for t, p, v, s in state.log if (v, s) == ("c6", 429))
    retried = next(t for t, p, v, s in state.log if (v, s) == ("c6", 200))
    assert retried - limited >= 1.0  # Retry-After: 1 was honoured

    records = {r["key"]["trade_id"]: r for r in box.records() if r["source"] == "custodian"}
    assert records["H1"]["fields"]["amount"] == Decimal("0.1")
    assert records["H2"]["fields"]["amount"] == Decimal("12345678901234567890.123456789")
    dead = {d["location"]: d["reason"] for d in box.dead_letters() if d["source"] == "custodian"}
    assert dead == {
        f"{base}/v1/trades?cursor=c3#1": "amount: not a decimal: '1O.5'",
        f"{base}/v1/trades?cursor=c6#1": "an item must be a JSON object",
    }


def test_the_next_pass_resumes_at_the_last_cursor_and_reads_only_new_items(
    box: Sandbox, api: tuple[Api, str]
) -> None:
    state, _ = api
    before = _published(box, "custodian")
    state.items.append({"id": "H11", "amount": "11.11", "day": "2026-12-01"})
    (summary,) = _run(box, "custodian")
    assert summary["pages"] == 1  # the last page again, which now holds the new item too
    assert _published(box, "custodian") - before == {"H9": 1, "H10": 1, "H11": 1}


def test_page_numbers_are_followed_to_the_first_short_page(
    box: Sandbox, api: tuple[Api, str]
) -> None:
    state, _ = api
    (summary,) = _run(box, "broker")
    assert (summary["read"], summary["pages"]) == (len(state.items), 4)
    assert set(_published(box, "broker")) == {
        i["id"] for i in state.items if isinstance(i, dict) and i["id"] != "H4"
    }
