"""What the local Kafka, PostgreSQL and Redis servers have in common."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from greenai.localstack.private import private_dir
from greenai.localstack.processes import Cancelled, PidFile, rotate_log, spawn
from streams.stack_secrets import StackSecrets

__all__ = ["ManagedServer"]


class ManagedServer(ABC):
    """One server process with its data under ``home/NAME`` and its log in ``home/logs``,
    locked with the credentials of ``secrets`` (never on its command line)."""

    name: ClassVar[str]
    port_names: ClassVar[tuple[str, ...]] = ("port",)
    stop_signal: ClassVar[int] = signal.SIGTERM
    ready_timeout: ClassVar[float] = 60.0

    def __init__(self, home: Path, secrets: StackSecrets) -> None:
        self.home = home
        self.secrets = secrets
        self.root = home / self.name
        self.log_path = home / "logs" / f"{self.name}.log"
        self.pidfile = PidFile(home / "run" / f"{self.name}.pid")
        self.ports: dict[str, int] = {}
        self.proc: subprocess.Popen[bytes] | None = None

    # -- what each server defines -------------------------------------------------------

    def prepare(self, cancel: threading.Event) -> None:  # noqa: B027 - optional hook
        """One-time or per-start setup before the server runs (may be slow)."""

    @abstractmethod
    def argv(self) -> list[str]:
        """The server's command line."""

    def env(self) -> Mapping[str, str] | None:
        """Environment for the server (None: inherit)."""
        return None

    def user(self) -> str | None:
        """Run the server as this user (None: as ourselves)."""
        return None

    @abstractmethod
    def probe(self) -> bool:
        """True once the server answers; never raises for a not-yet-ready server."""

    def after_ready(self) -> None:  # noqa: B027 - optional hook
        """Work that needs the running server (e.g. create a database)."""

    @property
    @abstractmethod
    def url(self) -> str:
        """How clients reach the server (with the password they need)."""

    # -- lifecycle ---------------------------------------------------------------------

    def stop_stale(self) -> None:
        """Stop a server a crashed earlier run left behind."""
        self.pidfile.stop_stale(self.name, self.stop_signal)

    def begin_log(self) -> None:
        """Start a fresh log (the previous one is kept as ``.1``)."""
        rotate_log(self.log_path)

    def start(self) -> None:
        """Launch the server process."""
        private_dir(self.root)
        self.proc = spawn(self.argv(), log_path=self.log_path, env=self.env(), user=self.user())
        self.pidfile.write(self.proc.pid)

    def wait_ready(self, cancel: threading.Event) -> None:
        """Block until :meth:`probe` succeeds; a clear one-line error otherwise."""
        assert self.proc is not None
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if cancel.is_set():
                raise Cancelled(self.name)
            code = self.proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {code} while starting; see {self.log_path}"
                )
            if self.probe():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name} not ready after {self.ready_timeout:.0f}s; see {self.log_path}"
                )
            cancel.wait(0.2)
