"""``python -m load.run`` (``make load``): the load test of the BFF on a stack of its own.

1. Starts ``greenai up --demo`` in a temporary ``GREENAI_HOME`` (real Kafka, PostgreSQL,
   Redis, the workers, the BFF and the live demo feed) and waits until it is healthy.
2. Creates the analysts through the admin API (``POST /api/users``, ``POST /api/tokens``).
3. Publishes ``GREENAI_LOAD_TRADES`` generated trades (a quarter of them breaks) on top of
   the demo feed and waits until their breaks are stored, so that the desk has a backlog.
4. Opens ``GREENAI_LOAD_SSE`` live streams (``load/sse_clients.py``, one asyncio process),
   then runs Locust headless (``load/locustfile.py``) with ``GREENAI_LOAD_USERS`` analysts:
   a ramp at ``GREENAI_LOAD_SPAWN_RATE`` users a second, then ``GREENAI_LOAD_SECONDS`` of
   measurement (the ramp is left out of every figure).
5. Prints per request type p50/p95/p99, requests/s and errors; the streams connected, the
   events they received and the delivery lag; the CPU each process used and the load
   average; writes it all as JSON to ``load/out/``; stops the stack and checks that no
   process of it is left.

The delivery lag is measured two ways, both on this machine's one clock:

- **stored → received**: an SSE ``break`` event carries the break's id, ``version`` and
  ``revision``; ``break_history.stored_at`` of that change is when the sink's transaction
  that stored it began. Receive time minus that is what PostgreSQL, Redis pub/sub, the
  change hub and the SSE stream add — the fan-out. (``updated_at`` in the event is event
  time, set by the diff worker, not when the change was stored.)
- **action → received**: every comment and tag an analyst sends answers with its
  ``command_id``, and the break's revision that carries it arrives in the stream with that
  id in ``activity``: receive time minus the moment the analyst sent the request is the
  whole path a person's action takes (BFF, Kafka, the diff worker, attribution, the sink,
  the fan-out) until every desk sees it.

``run_load`` drives a stack that is already running (the smoke test uses it on the test
pipeline).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

from load.machine import Profiler, Sampler, bff_pid
from load.plan import Plan, Target
from load.report import Raw, render, stored_times, summarise

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "load" / "out"
SERVER_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL")
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "python:bff.gunicorn_conf"]
DRAIN_SECONDS = 3.0  # the streams stay open this long after the analysts stop (lag p99 < 1 s)
TRADE_IDS_FROM = 10_000_000  # the load's trades: T-10000001...; the demo feed's start at T-00000001


# --- accounts -----------------------------------------------------------------------------


def make_analysts(target: Target, count: int, prefix: str = "load-analyst") -> list[dict[str, str]]:
    """``count`` analysts, each with an API token (an existing user of the name gets a new
    token)."""
    accounts = []
    headers = {"Authorization": f"Bearer {target.admin_token}"}
    with httpx.Client(base_url=target.url, headers=headers, timeout=60) as client:
        for n in range(1, count + 1):
            username = f"{prefix}-{n:04d}"
            password = secrets.token_urlsafe(18)
            made = client.post(
                "/api/users",
                json={"username": username, "roles": ["analyst"], "password": password},
            )
            if made.status_code not in (201, 409):
                raise RuntimeError(f"creating {username}: HTTP {made.status_code} {made.text}")
            token = client.post("/api/tokens", json={"username": username, "name": "load test"})
            if token.status_code != 201:
                raise RuntimeError(f"a token for {username}: HTTP {token.status_code} {token.text}")
            accounts.append({"username": username, "token": token.json()["token"]})
    return accounts


# --- the backlog --------------------------------------------------------------------------


def publish_trades(trades: int, recon: str = "trades") -> int:
    """Publish ``trades`` generated trades of the demo recon to the stack that
    ``GREENAI_HOME`` names; returns how many of them are breaks."""
    from streams.database import load_recon
    from streams.ingest.files import RawRow
    from streams.ingest.publisher import SourcePublisher
    from streams.ingest.synthetic import TradeGenerator
    from streams.kafka import SafeProducer
    from streams.settings import load_settings
    from streams.topics import Topics

    settings = load_settings()
    definition = load_recon(settings.database(), recon)
    producer = SafeProducer(settings.kafka(), security=settings.kafka_security())
    topics = Topics(settings.topic_prefix)
    ledger = SourcePublisher(producer, topics, definition, "ledger")
    custody = SourcePublisher(producer, topics, definition, "custody")
    generator = TradeGenerator(seed=12, break_rate=0.25)
    generator.n = TRADE_IDS_FROM
    breaks = 0
    for n in range(trades):
        pair = generator.pair()
        breaks += pair.cause is not None
        for row in pair.ledger:
            ledger.publish(RawRow(f"load-ledger:{n}", row))
        for row in pair.custody:
            custody.publish(RawRow(f"load-custody:{n}", row))
    producer.flush()
    return breaks


def wait_for_breaks(database_url: str, expected: int, timeout: float = 600.0) -> int:
    """Until the load's trades' breaks are stored (``expected`` of them, or no new one for
    20 s: a generated break now and then comes out as no break); returns how many are."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM breaks WHERE key->>'trade_id' LIKE 'T-1%'"
            ).fetchone()
            count = int(row[0]) if row else 0
            if count != last:
                last, since = count, time.monotonic()
            if count >= expected or time.monotonic() - since > 20:
                return count
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {count} of {expected} breaks stored in {timeout:.0f}s")
            time.sleep(1.0)


# --- a run --------------------------------------------------------------------------------


def _lines(stream: Any, into: list[str], seen: threading.Event, marker: str) -> None:
    """Collect a child's output lines; ``seen`` is set at the line starting with ``marker``
    or when the output ends."""
    for line in stream:
        into.append(line)
        if line.startswith(marker):
            seen.set()
    seen.set()


def run_load(target: Target, plan: Plan, work: Path) -> Raw:
    """Run the streams and the analysts against ``target``; ``work`` holds the files."""
    work.mkdir(parents=True, exist_ok=True)
    accounts = make_analysts(target, max(1, plan.users))
    tokens = work / "tokens.json"
    tokens.write_text(json.dumps(accounts))
    tokens.chmod(0o600)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    notes: list[str] = []
    sse_out, locust_out = work / "sse.json", work / "locust.json"

    sse_lines: list[str] = []
    ready = threading.Event()
    sse = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "load.sse_clients",
            "--url",
            f"{target.url}/api/stream",
            "--tokens",
            str(tokens),
            "--clients",
            str(plan.sse),
            "--per-second",
            str(plan.sse_per_second),
            "--out",
            str(sse_out),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reader = threading.Thread(target=_lines, args=(sse.stdout, sse_lines, ready, "ready"))
    reader.start()
    sampler = Sampler([*target.roots, os.getpid()], target.database_url)
    sampler.start()
    locust_exit: int | None = None
    ready_after: float | None = None
    try:
        started = time.monotonic()
        wait = 60 + (plan.sse / plan.sse_per_second if plan.sse_per_second > 0 else 0) * 3
        if plan.sse and not (ready.wait(wait) and any(x.startswith("ready") for x in sse_lines)):
            notes.append(f"not every SSE client had its stream after {wait:.0f}s")
        else:
            ready_after = time.monotonic() - started
        run_for = math.ceil(plan.ramp) + math.ceil(plan.seconds)
        spy = Profiler(work / "bff-profile.txt", target.bff_pid or bff_pid(target.roots), plan)
        with open(work / "locust.log", "w") as log:
            locust = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(ROOT / "load" / "locustfile.py"),
                    "--headless",
                    "--users",
                    str(plan.users),
                    "--spawn-rate",
                    str(plan.spawn_rate),
                    "--run-time",
                    f"{run_for}s",
                    "--host",
                    target.url,
                    "--only-summary",
                    "--stop-timeout",
                    "0",
                    "--loglevel",
                    "WARNING",
                ],
                env={
                    **env,
                    "GREENAI_LOAD_TOKENS": str(tokens),
                    "GREENAI_LOAD_OUT": str(locust_out),
                    "GREENAI_LOAD_THINK": plan.think,
                },
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            if plan.profile:
                spy.start()
            try:
                locust_exit = locust.wait(timeout=run_for + 120)
            except subprocess.TimeoutExpired:
                locust.kill()
                locust.wait()
                notes.append("Locust did not finish in time and was killed")
    finally:
        time.sleep(DRAIN_SECONDS)  # the last actions' revisions reach the streams too
        if not terminate(sse, 60):
            notes.append("the SSE clients did not stop in time and were killed")
        reader.join(timeout=5)
        sampler.stop()
    if not locust_out.exists():
        tail = (work / "locust.log").read_text()[-3000:]
        raise RuntimeError(f"Locust wrote no results; its log ends:\n{tail}")
    if not sse_out.exists():
        raise RuntimeError("the SSE clients wrote no results:\n" + "".join(sse_lines[-30:]))
    measured = json.loads(locust_out.read_text())
    seen = json.loads(sse_out.read_text())
    start = measured.get("spawned_at") or time.time()
    machine = sampler.between(start, measured["stopped_at"])
    stored = stored_times(target.database_url, seen["meta"])
    raw = Raw(plan, measured, seen, stored, machine, ready_after, locust_exit, notes)
    if plan.profile:
        spy.join(timeout=plan.ramp + plan.seconds + 60)
        raw.profile = spy.summary()
    return raw


def terminate(process: subprocess.Popen[Any], timeout: float) -> bool:
    """SIGTERM ``process`` and wait; SIGKILL it after ``timeout`` seconds (then False)."""
    if process.poll() is not None:
        return True
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False


# --- a stack of its own -------------------------------------------------------------------


def _mentions(proc: psutil.Process, text: str) -> bool:
    with contextlib.suppress(psutil.Error):
        if any(text in part for part in proc.cmdline()):
            return True
        return any(text in value for value in proc.environ().values())
    return False


class Stack:
    """``greenai up --demo`` in a temporary home, stopped (with every process it started)
    at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.url = ""

    def __enter__(self) -> Stack:
        from greenai.localstack.ports import free_port

        env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
        port = free_port()
        env |= {
            "GREENAI_HOME": str(self.home),
            "GREENAI_BFF_PORT": str(port),
            "PYTHONPATH": str(ROOT),
        }
        os.environ["GREENAI_HOME"] = str(self.home)  # for load_settings in this process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "greenai", "up", "--demo"],
            env=env,
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        up = threading.Event()
        threading.Thread(
            target=_lines, args=(self.process.stdout, self.lines, up, "greenai is up"), daemon=True
        ).start()
        up.wait(600)
        if not any(line.startswith("greenai is up") for line in self.lines):
            self.stop()
            raise RuntimeError("greenai up did not come up:\n" + "".join(self.lines[-30:]))
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        left = self.stop()
        if left:
            print(f"load: killed processes the stack left behind: {left}", file=sys.stderr)

    def stop(self) -> list[str]:
        """Stop the stack; kill (and name) whatever of it is still running after."""
        if self.process is not None:
            terminate(self.process, 120)
        left = []
        for proc in psutil.process_iter():
            if proc.pid != os.getpid() and _mentions(proc, str(self.home)):
                with contextlib.suppress(psutil.Error):
                    left.append(f"{proc.pid} {' '.join(proc.cmdline())[:80]}")
                    proc.kill()
        return left


class GunicornBff:
    """The BFF as production runs it (``bff/gunicorn_conf.py``: gunicorn, ``workers`` uvicorn
    workers, no sink) beside the stack's own, on the stack's servers and keys."""

    def __init__(self, home: Path, workers: int) -> None:
        self.home = home
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> GunicornBff:
        from greenai.localstack.accounts import ensure_accounts
        from greenai.localstack.ports import free_port

        port = free_port()
        env = {
            **os.environ,
            **ensure_accounts(self.home).bff_env(demo=False),  # the stack's audit and cookie keys
            "GREENAI_HOME": str(self.home),
            "GREENAI_BFF_PORT": str(port),
            "GREENAI_WEB_CONCURRENCY": str(self.workers),
            "GREENAI_BFF_SINK": "false",
            "GREENAI_WORKER_ID": "load",
            "PYTHONPATH": str(ROOT),
        }
        with open(self.home / "logs" / "bff-gunicorn.log", "ab") as log:
            self.process = subprocess.Popen(
                [*GUNICORN, "bff.asgi:app"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"gunicorn's BFF did not come up: see {log.name}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            terminate(self.process, 60)


def main() -> int:
    plan = Plan.from_env()
    keep = os.environ.get("GREENAI_LOAD_KEEP") == "1"
    work = Path(tempfile.mkdtemp(prefix="greenai-load-"))
    print(f"load: {plan}; working in {work}", flush=True)
    try:
        with Stack(work / "home") as stack:
            from greenai.localstack.accounts import ensure_accounts
            from streams.settings import load_settings

            database_url = load_settings().database()
            assert stack.process is not None
            target = Target(
                stack.url, ensure_accounts(stack.home).token, database_url, (stack.process.pid,)
            )
            print(
                f"load: the stack is up at {stack.url}; publishing {plan.trades} trades", flush=True
            )
            expected = publish_trades(plan.trades)
            stored = wait_for_breaks(database_url, expected)
            print(f"load: {stored} of {expected} breaks stored; running the load", flush=True)
            if plan.bff_workers > 0:
                with GunicornBff(stack.home, plan.bff_workers) as bff:
                    assert bff.process is not None
                    target = replace(
                        target,
                        url=bff.url,
                        roots=(*target.roots, bff.process.pid),
                        bff_pid=bff.process.pid,
                    )
                    raw = run_load(target, plan, work)
            else:
                raw = run_load(target, plan, work)
        summary = summarise(raw)
        OUT.mkdir(parents=True, exist_ok=True)
        report = OUT / f"load-{summary['when'].replace(':', '')}.json"
        report.write_text(json.dumps(summary, indent=2))
        if (work / "bff-profile.txt").exists():
            shutil.copy(work / "bff-profile.txt", report.with_suffix(".profile.txt"))
        print()
        print(render(summary))
        print(f"\nload: the figures as JSON: {report}")
        return 0
    finally:
        if keep:
            print(f"load: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
