"""``greenai up``: the embedded stack comes up, shows live demo breaks, and stops clean."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from greenai.localstack import ServerUrls
from greenai.localstack.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL")


def _descendants(pid: int) -> set[int]:
    """Every process whose parent chain leads to ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        children = {p for p, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_up(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "greenai", "up", *args],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "greenai is up" in line:
            return process, line
    process.kill()
    raise AssertionError("greenai up did not come up:\n" + "".join(lines[-30:]))


def _stop(process: subprocess.Popen[str], sig: int) -> set[int]:
    started = _descendants(process.pid)
    assert started, "greenai up started no child processes"
    process.send_signal(sig)
    assert process.wait(timeout=90) == 0
    return {pid for pid in started if _alive(pid)}


def test_up_demo_runs_the_whole_stack_and_sigterm_leaves_no_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    port = free_port()
    env |= {"GREENAI_HOME": str(tmp_path / "home"), "GREENAI_BFF_PORT": str(port)}
    process, ready = _start_up(env, "--demo")
    try:
        assert f"http://127.0.0.1:{port}" in ready
        causes: set[str] = set()
        deadline = time.monotonic() + 120
        while len(causes) < 3 and time.monotonic() < deadline:
            time.sleep(2)
            breaks = httpx.get(f"http://127.0.0.1:{port}/api/breaks?status=all").json()
            causes = {b["cause"] for b in breaks if b["cause"]}
        assert len(causes) >= 3, f"demo breaks of only {causes}"
        assert '<div id="root">' in httpx.get(f"http://127.0.0.1:{port}/").text
    finally:
        left = _stop(process, signal.SIGTERM)
    assert not left, f"processes left behind: {left}"
    assert not (tmp_path / "home" / "stack.json").exists()


def test_up_with_existing_servers_stops_on_ctrl_c(servers: ServerUrls, tmp_path: Path) -> None:
    env = {
        **os.environ,
        **servers.as_env(),
        "GREENAI_HOME": str(tmp_path / "home"),
        "GREENAI_BFF_PORT": str(free_port()),
        "GREENAI_TOPIC_PREFIX": "uptest",
    }
    process, _ = _start_up(env)
    assert (tmp_path / "home" / "stack.json").exists()
    left = _stop(process, signal.SIGINT)
    assert not left, f"processes left behind: {left}"
