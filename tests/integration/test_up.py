"""``greenai up``: the embedded stack comes up, shows live demo breaks, and stops clean."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from greenai.localstack import ServerUrls
from greenai.localstack.ports import free_port
from tests.integration.browser import Browser

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
        said = [process.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
        assert said[0].startswith(f"greenai: sign in at http://127.0.0.1:{port} as admin / ")
        assert said[1].startswith("greenai: demo analyst (created for the demo): analyst / ")
        analyst_password = said[1].rsplit(" / ", 1)[1].strip()
        browser = Browser(f"http://127.0.0.1:{port}")
        assert browser.sign_in("analyst", analyst_password).status_code == 200
        causes: set[str] = set()
        deadline = time.monotonic() + 120
        while len(causes) < 3 and time.monotonic() < deadline:
            time.sleep(2)
            breaks = browser.get("/api/breaks?status=all").json()
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


def _child_pid(root: int, module: str) -> int | None:
    for pid in _descendants(root):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if module.encode() in argv and _alive(pid):
            return pid
    return None


def test_up_restarts_a_child_that_keeps_dying_and_says_which_and_why(
    servers: ServerUrls, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        **servers.as_env(),
        "GREENAI_HOME": str(tmp_path / "home"),
        "GREENAI_BFF_PORT": str(free_port()),
        "GREENAI_TOPIC_PREFIX": "uprestart",
    }
    process, _ = _start_up(env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        killed: set[int] = set()
        for _ in range(5):  # five deaths inside the window: more than the old lifetime budget
            deadline = time.monotonic() + 60
            pid = None
            while time.monotonic() < deadline:
                pid = _child_pid(process.pid, "streams.diff")
                if pid is not None and pid not in killed:
                    break
                time.sleep(0.2)
            assert pid is not None and pid not in killed, "the diff worker was not restarted"
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("keeps failing" in li for li in lines):
            time.sleep(0.2)
        assert process.poll() is None, "greenai up gave up"
        said = "".join(lines)
        assert "diff exited (killed by SIGKILL); restarting in" in said
        assert "diff keeps failing (5 exits in the last 120s; killed by SIGKILL)" in said
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _child_pid(process.pid, "streams.diff") in (
            None,
            *killed,
        ):
            time.sleep(0.2)
        assert _child_pid(process.pid, "streams.diff") not in (None, *killed)
    finally:
        left = _stop(process, signal.SIGTERM)
        reader.join(timeout=10)
    assert not left, f"processes left behind: {left}"
