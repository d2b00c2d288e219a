"""Redis from the OS packages, append-only data in ``home/redis``."""

from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path

from greenai.localstack.base import ManagedServer

__all__ = ["RedisServer", "redis_ping"]


def redis_ping(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when the server at ``host:port`` answers PING with PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(ManagedServer):
    """``redis-server`` on 127.0.0.1, not daemonized, AOF persistence."""

    name = "redis"
    ready_timeout = 60.0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports['port']}/0"

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.binary = ""

    def prepare(self, cancel: threading.Event) -> None:
        found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")
        if found is None:
            raise RuntimeError("redis-server not found; run infra/install-system-packages.sh")
        self.binary = found

    def argv(self) -> list[str]:
        return [
            self.binary,
            "--port",
            str(self.ports["port"]),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.root),
            "--appendonly",
            "yes",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
        ]

    def probe(self) -> bool:
        return redis_ping("127.0.0.1", self.ports["port"])
