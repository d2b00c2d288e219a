"""Child processes: own session, output to a log file, stopped with no leftovers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from greenai.localstack.private import UMASK, private_dir, touch_private, write_private

__all__ = [
    "Cancelled",
    "PidFile",
    "ProcessGroup",
    "pid_alive",
    "rotate_log",
    "run_step",
    "spawn",
    "stop_processes",
]

_POLL = 0.05


class Cancelled(Exception):
    """Raised in a start-up thread when the whole start was abandoned."""


def rotate_log(path: Path) -> None:
    """Keep the previous run's log as ``NAME.log.1`` and start an empty one (mode 0600)."""
    private_dir(path.parent)
    if path.exists():
        os.replace(path, path.with_name(path.name + ".1"))
    touch_private(path)


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    input: bytes | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session with umask 077, stdout and stderr appended to
    ``log_path`` (mode 0600). ``input`` is written to its stdin (never put a secret in
    ``argv``: every local user can read a command line)."""
    private_dir(log_path.parent)
    touch_private(log_path)
    with open(log_path, "ab", buffering=0) as log:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        command = " ".join(argv)
        if len(command) > 400:
            command = command[:400] + " ..."
        log.write(f"--- {stamp} greenai: starting {command}\n".encode())
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
            user=user,
            group=user,
            extra_groups=[] if user is not None else None,
            umask=UMASK,
        )
    if input is not None:
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(input)
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
    return proc


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces.
    return raw[raw.rindex(")") + 2 :].split()


def pid_alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie counts as gone)."""
    fields = _stat_fields(pid)
    if fields is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return fields[0] not in ("Z", "X")


def _start_time(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields is not None else None


def _same_process(pid: int, start_time: int | None) -> bool:
    return pid > 0 and pid_alive(pid) and _start_time(pid) == start_time


def _group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process is in process group ``pgid``."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


def _signal(pid: int, sig: int, *, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _owns_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def stop_processes(
    procs: Iterable[tuple[subprocess.Popen[bytes], int]], timeout: float = 15.0
) -> None:
    """Signal each child's process group, wait, then SIGKILL what is left.

    The children must come from :func:`spawn` (each leads its own process group).
    """
    items = list(procs)
    for proc, sig in items:
        _signal(proc.pid, sig, group=True)

    def running() -> list[subprocess.Popen[bytes]]:
        return [p for p, _ in items if p.poll() is None or _group_alive(p.pid)]

    deadline = time.monotonic() + timeout
    while running() and time.monotonic() < deadline:
        time.sleep(_POLL)
    for proc in running():
        _signal(proc.pid, signal.SIGKILL, group=True)
    end = time.monotonic() + 10
    for proc, _ in items:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, end - time.monotonic()))
    while any(_group_alive(p.pid) for p, _ in items) and time.monotonic() < end:
        time.sleep(_POLL)


def terminate_pid(pid: int, sig: int, timeout: float = 15.0) -> None:
    """Stop a process that is not our child (and its group when it leads one)."""
    group = _owns_group(pid)
    _signal(pid, sig, group=group)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(_POLL)
    if pid_alive(pid) or (group and _group_alive(pid)):
        _signal(pid, signal.SIGKILL, group=group)
        end = time.monotonic() + 5
        while pid_alive(pid) and time.monotonic() < end:
            time.sleep(_POLL)


def run_step(
    argv: Sequence[str],
    *,
    what: str,
    log_path: Path,
    cancel: threading.Event,
    timeout: float,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    input: bytes | None = None,
) -> None:
    """Run a one-off preparation command to completion (killed on cancel or timeout);
    ``input`` goes to its stdin."""
    proc = spawn(argv, log_path=log_path, env=env, user=user, input=input)
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if cancel.is_set() or time.monotonic() > deadline:
            stop_processes([(proc, signal.SIGTERM)], timeout=5)
            if cancel.is_set():
                raise Cancelled(what)
            raise RuntimeError(f"{what} timed out after {timeout:.0f}s; see {log_path}")
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.2)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}); see {log_path}")


class PidFile:
    """A server's pid plus the pid of the greenai process that owns it, for stale detection."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, pid: int) -> None:
        """Record ``pid`` as started by this process."""
        me = os.getpid()
        data = {"pid": pid, "start": _start_time(pid), "owner": me, "owner_start": _start_time(me)}
        private_dir(self.path.parent)
        write_private(self.path, json.dumps(data))

    def remove(self) -> None:
        """Forget the recorded process."""
        self.path.unlink(missing_ok=True)

    def stop_stale(self, name: str, sig: int, timeout: float = 15.0) -> int | None:
        """Stop a server left by a dead owner; return its pid (None when there was none)."""
        try:
            data = json.loads(self.path.read_text())
            pid, start = int(data["pid"]), data.get("start")
            owner, owner_start = int(data["owner"]), data.get("owner_start")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            self.remove()
            return None
        if not _same_process(pid, start):
            self.remove()
            return None
        if _same_process(owner, owner_start):
            raise RuntimeError(
                f"{name} (pid {pid}) under {self.path.parent.parent} is in use by the running "
                f"greenai process {owner}; stop that one first or use another GREENAI_HOME"
            )
        print(f"greenai: stopping stale {name} (pid {pid}) left by a previous run", file=sys.stderr)
        terminate_pid(pid, sig, timeout)
        self.remove()
        return pid


class ProcessGroup:
    """The long-running children of ``greenai up``, each in its own session."""

    def __init__(self, logs_dir: Path) -> None:
        self.logs_dir = private_dir(Path(logs_dir))
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._reported: set[str] = set()

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        """Start ``argv`` with ``os.environ`` updated by ``env``; output to ``NAME.log``."""
        old = self._children.get(name)
        if old is not None and old.poll() is None:
            raise ValueError(f"a process named {name!r} is already running (pid {old.pid})")
        log_path = self.logs_dir / f"{name}.log"
        rotate_log(log_path)
        self._children[name] = spawn(argv, log_path=log_path, env={**os.environ, **env})
        self._reported.discard(name)

    @property
    def pids(self) -> dict[str, int]:
        """Pid of every child started (running or not)."""
        return {name: proc.pid for name, proc in self._children.items()}

    def log_path(self, name: str) -> Path:
        """Where the child ``name`` writes its output."""
        return self.logs_dir / f"{name}.log"

    def first_exit(self, timeout: float | None = None) -> tuple[str, int] | None:
        """Wait for a child to die; return (name, returncode) once per child, None on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            for name, proc in self._children.items():
                if name not in self._reported and proc.poll() is not None:
                    self._reported.add(name)
                    return name, proc.returncode
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(_POLL)

    def stop_all(self, timeout: float = 15.0) -> None:
        """SIGTERM every child's process group, wait, SIGKILL stragglers."""
        stop_processes([(p, signal.SIGTERM) for p in self._children.values()], timeout)

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
