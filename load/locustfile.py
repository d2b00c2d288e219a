"""Analysts on the break API, for Locust (``make load`` runs it; see ``load/run.py``).

Each simulated analyst signs in with an API token of their own (``Authorization: Bearer``)
and works like a person on the live desk, with a pause of ``GREENAI_LOAD_THINK`` seconds
(default 1-3) between steps: lists a page of open breaks (200, newest first), sometimes
filtered by recon, cause, ``owner=me`` or ``overdue=true`` or the next page; opens a break
it saw (the break, its comments, its history, its decisions, as the ReconWorkstation's
detail pane does); and now and then acts on one (a comment, a tag, a label). Each request
is named by its route in the report (the list by route and filter).

The live streams are not Locust users: ``load/sse_clients.py`` holds them in a process of
its own (asyncio), so that 500 open streams do not share this process's one core with the
analysts' timing.

Environment (set by ``load/run.py``):

``GREENAI_LOAD_TOKENS``  a JSON file ``[{"username": ..., "token": ...}, ...]``: one analyst each
``GREENAI_LOAD_OUT``     where to write every request's timing and every accepted action
                         (JSON) when Locust quits
``GREENAI_LOAD_THINK``   the pause between steps, ``MIN-MAX`` seconds (default ``1-3``)
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment

from streams.domain.vocabulary import CAUSES

PAGE = 200
RECON = "trades"
BREAK_ID = re.compile(rb'"break_id":"([^"]+)"')  # the ids of a page, without parsing it all


def _think() -> tuple[float, float]:
    low, _, high = os.environ.get("GREENAI_LOAD_THINK", "1-3").partition("-")
    return float(low), float(high or low)


def _tokens() -> list[dict[str, str]]:
    path = os.environ.get("GREENAI_LOAD_TOKENS")
    if not path:
        raise SystemExit("GREENAI_LOAD_TOKENS is not set: run the load test with load/run.py")
    found: list[dict[str, str]] = json.loads(Path(path).read_text())
    return found


class Record:
    """What this run measured: every request (name, start, milliseconds, failure) and every
    accepted action (for the action -> stream lag), written as JSON when Locust quits."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, float, float, str | None]] = []
        self.actions: list[tuple[str, str, float, float]] = []  # command_id, action, sent, back
        self.spawned_at: float | None = None
        self.stopped_at: float | None = None

    def dump(self, path: str) -> None:
        out = {
            "spawned_at": self.spawned_at,
            "stopped_at": self.stopped_at or time.time(),
            "requests": self.requests,
            "actions": self.actions,
        }
        Path(path).write_text(json.dumps(out))


RECORD = Record()


@events.request.add_listener
def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    exception: Exception | None = None,
    start_time: float | None = None,
    **_: Any,
) -> None:
    failure = None if exception is None else f"{type(exception).__name__}: {exception}"[:300]
    RECORD.requests.append((name, start_time or time.time(), response_time, failure))


@events.spawning_complete.add_listener
def _on_spawned(user_count: int, **_: Any) -> None:
    RECORD.spawned_at = time.time()


@events.test_stop.add_listener
def _on_stop(environment: Environment, **_: Any) -> None:
    RECORD.stopped_at = time.time()


@events.quitting.add_listener
def _on_quit(environment: Environment, **_: Any) -> None:
    out = os.environ.get("GREENAI_LOAD_OUT")
    if out:
        RECORD.dump(out)


class Analyst(FastHttpUser):
    wait_time = between(*_think())
    _accounts = _tokens()
    _next = itertools.count()

    def on_start(self) -> None:
        account = self._accounts[next(self._next) % len(self._accounts)]
        self.username = account["username"]
        self.auth = {"Authorization": f"Bearer {account['token']}"}
        self.seen: list[str] = []  # break ids of the last page listed
        self.next_cursor: str | None = None

    # -- listing -------------------------------------------------------------------------

    def _list(self, name: str, query: str) -> None:
        with self.client.get(
            f"/api/breaks?{query}&limit={PAGE}",
            name=f"GET /api/breaks?{name}",
            headers=self.auth,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            ids = [m.decode() for m in BREAK_ID.findall(response.content or b"")]
            if ids:
                self.seen = ids
            if name == "status=open":
                self.next_cursor = response.headers.get("X-Next-Cursor")

    @task(6)
    def list_open(self) -> None:
        self._list("status=open", "status=open")

    @task(2)
    def list_recon(self) -> None:
        self._list("recon", f"status=open&recon={RECON}")

    @task(2)
    def list_cause(self) -> None:
        self._list("cause", f"status=open&cause={random.choice(CAUSES)}")

    @task(1)
    def list_mine(self) -> None:
        self._list("owner=me", "status=open&owner=me")

    @task(1)
    def list_overdue(self) -> None:
        self._list("overdue=true", "status=open&overdue=true")

    @task(1)
    def next_page(self) -> None:
        if self.next_cursor is None:
            self.list_open()
            return
        self._list("cursor", f"status=open&cursor={self.next_cursor}")

    # -- a break's detail ----------------------------------------------------------------

    def _pick(self) -> str | None:
        if not self.seen:
            self.list_open()
        return random.choice(self.seen) if self.seen else None

    @task(6)
    def open_break(self) -> None:
        break_id = self._pick()
        if break_id is None:
            return
        base = f"/api/breaks/{break_id}"
        self.client.get(base, name="GET /api/breaks/{break_id}", headers=self.auth)
        for part in ("comments", "history", "decisions"):
            self.client.get(
                f"{base}/{part}", name=f"GET /api/breaks/{{break_id}}/{part}", headers=self.auth
            )

    # -- acting on one -------------------------------------------------------------------

    def _act(self, name: str, path: str, body: dict[str, Any], action: str) -> None:
        break_id = self._pick()
        if break_id is None:
            return
        sent = time.time()
        with self.client.post(
            f"/api/breaks/{break_id}/{path}",
            json=body,
            name=name,
            headers=self.auth,
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 202):
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            command_id = (response.json() or {}).get("command_id")
            if command_id:
                RECORD.actions.append((command_id, action, sent, time.time()))

    @task(1)
    def comment(self) -> None:
        text = f"load test: {self.username} looked at it ({random.randrange(10**6)})"
        self._act(
            "POST /api/breaks/{break_id}/actions comment",
            "actions",
            {"action": "comment", "text": text},
            "comment",
        )

    @task(1)
    def tag(self) -> None:
        self._act(
            "POST /api/breaks/{break_id}/actions tag",
            "actions",
            {"action": "tag", "add": ["load"]},
            "tag",
        )

    @task(1)
    def label(self) -> None:
        # the label route waits (up to 15 s) for the break's new revision to be stored, and
        # answers without the command's id: its own time is its end-to-end figure
        self._act(
            "POST /api/breaks/{break_id}/label",
            "label",
            {"cause": random.choice(CAUSES)},
            "label",
        )
