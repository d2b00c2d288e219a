"""What the machine does during a load run: the CPU of every process of the stack, the
load generators included, the load average, and a py-spy profile of the BFF."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg

from load.plan import Plan

CATEGORIES = (  # (what the report calls it, what its command line holds)
    ("sink", "bff.sink"),
    ("bff (gunicorn)", "bff.asgi"),
    ("bff", "-m bff"),
    ("diff", "streams.diff"),
    ("attribution", "streams.attribution"),
    ("notify", "streams.notify"),
    ("scheduler", "streams.scheduler"),
    ("demo feed", "streams.ingest.demo"),
    ("kafka", "java"),
    ("postgres", "postgres"),
    ("redis", "redis-server"),
    ("locust", "locust"),
    ("sse clients", "load.sse_clients"),
    ("greenai up", "greenai up"),
)


def category(proc: psutil.Process) -> str:
    try:
        line = " ".join(proc.cmdline()) or proc.name()
    except psutil.Error:
        return "other"
    for name, marker in CATEGORIES:
        if marker in line:
            return name
    return "other"


@dataclass
class Sample:
    at: float
    loadavg: float
    cpu: dict[int, tuple[str, float]]  # pid -> (category, CPU seconds so far)
    sessions: dict[str, int] | None = None  # the BFF's PostgreSQL sessions, by what they do


BFF_SESSIONS = """
SELECT count(*),
       count(*) FILTER (WHERE state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock'),
       count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock'),
       count(*) FILTER (WHERE state = 'idle in transaction')
  FROM pg_stat_activity WHERE client_port = ANY(%s)
"""


class Sampler(threading.Thread):
    """Every second: the load average, the CPU time of every process under the roots and
    (with ``database_url``) what the BFF's PostgreSQL sessions are doing: running a query,
    waiting for a lock (the audit trail's append lock), idle inside a transaction."""

    def __init__(self, roots: list[int], database_url: str | None = None) -> None:
        super().__init__(daemon=True, name="load-sampler")
        self.roots = roots
        self.database_url = database_url
        self.samples: list[Sample] = []
        self._halt = threading.Event()
        self._categories: dict[int, str] = {}
        self._db: psycopg.Connection[Any] | None = None

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                self.samples.append(self._take())
                self._halt.wait(1.0)
        finally:
            if self._db is not None:
                self._db.close()

    def _take(self) -> Sample:
        procs: dict[int, psutil.Process] = {}
        for pid in self.roots:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pid)
                procs[pid] = root
                for child in root.children(recursive=True):
                    procs[child.pid] = child
        cpu = {}
        for pid, proc in procs.items():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                if pid not in self._categories:
                    self._categories[pid] = category(proc)
                cpu[pid] = (self._categories[pid], times.user + times.system)
        bff = [p for pid, p in procs.items() if self._categories.get(pid, "").startswith("bff")]
        return Sample(time.time(), os.getloadavg()[0], cpu, self._sessions(bff))

    def _sessions(self, bff: list[psutil.Process]) -> dict[str, int] | None:
        if self.database_url is None:
            return None
        ports = []
        for proc in bff:
            with contextlib.suppress(psutil.Error):
                ports += [c.laddr.port for c in proc.net_connections("tcp") if c.raddr]
        try:
            if self._db is None or self._db.closed:
                self._db = psycopg.connect(self.database_url, autocommit=True)
            row = self._db.execute(BFF_SESSIONS, [ports]).fetchone()
        except psycopg.Error:
            return None
        assert row is not None
        return dict(zip(("sessions", "querying", "lock_waits", "idle_in_tx"), row, strict=True))

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def between(self, start: float, end: float) -> dict[str, Any]:
        """CPU per category (% of one core) and the load average from ``start`` to ``end``."""
        inside = [s for s in self.samples if start <= s.at <= end]
        if len(inside) < 2:
            return {"cpu_percent": {}, "loadavg": {}}
        first, last = inside[0], inside[-1]
        span = last.at - first.at
        used: dict[str, float] = {}
        for pid, (name, seconds) in last.cpu.items():
            before = first.cpu.get(pid, (name, 0.0))[1]
            used[name] = used.get(name, 0.0) + max(0.0, seconds - before)
        loads = [s.loadavg for s in inside]
        sessions = [s.sessions for s in inside if s.sessions is not None]
        seen = {
            k: {
                "mean": round(sum(x[k] for x in sessions) / len(sessions), 2),
                "max": max(x[k] for x in sessions),
            }
            for k in (sessions[0] if sessions else {})
        }
        return {
            "bff_postgres_sessions": seen,
            "cpu_percent": {
                k: round(100 * v / span, 1) for k, v in sorted(used.items(), key=lambda kv: -kv[1])
            },
            "loadavg": {
                "min": min(loads),
                "median": sorted(loads)[len(loads) // 2],
                "max": max(loads),
            },
        }


def bff_pid(roots: tuple[int, ...]) -> int | None:
    """The BFF's process among the roots and their descendants (the API's, not the sink's)."""
    for pid in roots:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                line = " ".join(proc.cmdline())
                if line.endswith("-m bff"):
                    return proc.pid
    return None


class Profiler(threading.Thread):
    """py-spy, sampling the BFF's busy threads (not its idle waits) 100 times a second over
    the measured window, without pausing it (``--nonblocking``); then the functions that
    took the most samples, inclusive and self."""

    def __init__(self, out: Path, pid: int | None, plan: Plan) -> None:
        super().__init__(daemon=True, name="load-profiler")
        self.out = out
        self.pid = pid
        self.plan = plan
        self.error: str | None = None

    def run(self) -> None:
        if self.pid is None:
            self.error = "no BFF process found to profile"
            return
        time.sleep(math.ceil(self.plan.ramp) + 1)
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        done = subprocess.run(
            [
                spy,
                "record",
                "--pid",
                str(self.pid),
                "--duration",
                str(max(1, int(self.plan.seconds) - 2)),
                "--rate",
                "100",
                "--nonblocking",
                "--subprocesses",  # gunicorn's workers
                "--format",
                "raw",
                "--output",
                str(self.out),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            self.error = (done.stderr or done.stdout).strip()[-500:]

    def summary(self, top: int = 30) -> dict[str, Any]:
        if self.error or not self.out.exists():
            return {"error": self.error or "py-spy wrote nothing"}
        return fold_profile(self.out.read_text(), top)


def fold_profile(collapsed: str, top: int = 30) -> dict[str, Any]:
    """From py-spy's collapsed stacks: the share of samples in which each function is on
    the stack (inclusive) and on top (self)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(f, round(100 * c / total, 1)) for f, c in counter.most_common(top)]

    return {"samples": total, "inclusive": shares(inclusive), "self": shares(own)}
