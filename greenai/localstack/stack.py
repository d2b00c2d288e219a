"""Start the missing servers (Kafka, PostgreSQL, Redis) in parallel; stop exactly those."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from greenai.localstack.base import ManagedServer
from greenai.localstack.kafka import KafkaServer
from greenai.localstack.ports import PortBook
from greenai.localstack.postgres import PostgresServer
from greenai.localstack.processes import stop_processes
from greenai.localstack.redis import RedisServer

__all__ = ["LocalServers", "ServerUrls"]

URLS_FILE = "servers.json"


@dataclass(frozen=True)
class ServerUrls:
    """Where the three servers are."""

    kafka_bootstrap_servers: str  # "127.0.0.1:PORT"
    database_url: str  # "postgresql://USER@127.0.0.1:PORT/greenai"
    redis_url: str  # "redis://127.0.0.1:PORT/0"

    def as_env(self) -> dict[str, str]:
        """The environment variables that point a process at these servers."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
        }

    @classmethod
    def load(cls, path: Path) -> ServerUrls:
        """Read URLs written by :class:`LocalServers` (``home/servers.json``)."""
        data: dict[str, Any] = json.loads(Path(path).read_text())
        return cls(data["kafka_bootstrap_servers"], data["database_url"], data["redis_url"])


class LocalServers:
    """Context manager: the servers not given as URLs run under ``home`` while inside."""

    stop_timeout = 20.0

    def __init__(
        self,
        home: Path,
        *,
        kafka_bootstrap_servers: str | None = None,
        database_url: str | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.home = Path(home).absolute()
        self._given = {
            "kafka": kafka_bootstrap_servers,
            "postgres": database_url,
            "redis": redis_url,
        }
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._started: list[ManagedServer] = []
        self._pids: dict[str, int] = {}
        self._entered = False
        self.urls: ServerUrls | None = None

    @classmethod
    def from_environ(cls, home: Path, environ: Mapping[str, str] | None = None) -> LocalServers:
        """Use KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL / REDIS_URL when set (and non-empty)."""
        env = os.environ if environ is None else environ
        return cls(
            home,
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
        )

    @property
    def logs_dir(self) -> Path:
        """Where the servers' logs go (``home/logs``)."""
        return self.home / "logs"

    @property
    def pids(self) -> dict[str, int]:
        """Pid of each server this instance started (also after they stopped)."""
        return dict(self._pids)

    def __enter__(self) -> ServerUrls:
        if self._entered:
            raise RuntimeError("LocalServers is not reentrant")
        self._entered = True
        self.home.mkdir(parents=True, exist_ok=True)
        kinds: list[type[ManagedServer]] = [KafkaServer, PostgresServer, RedisServer]
        servers = [kind(self.home) for kind in kinds if self._given[kind.name] is None]
        for server in servers:
            server.stop_stale()
        book = PortBook(self.home / "ports.json")
        for server in servers:
            server.ports = {p: book.port(f"{server.name}.{p}") for p in server.port_names}
        book.save()

        pool = ThreadPoolExecutor(
            max_workers=max(1, len(servers)), thread_name_prefix="greenai-localstack"
        )
        futures: list[Future[None]] = [pool.submit(self._bring_up, s) for s in servers]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            self._cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            self._stop_started()
            raise
        pool.shutdown(wait=True)

        urls = {s.name: s.url for s in servers}
        result = ServerUrls(
            kafka_bootstrap_servers=self._given["kafka"] or urls["kafka"],
            database_url=self._given["postgres"] or urls["postgres"],
            redis_url=self._given["redis"] or urls["redis"],
        )
        self.urls = result
        urls_file = self.home / URLS_FILE
        tmp = urls_file.with_name(f"{URLS_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**asdict(result), "pid": os.getpid()}, indent=2))
        os.replace(tmp, urls_file)
        return result

    def __exit__(self, *exc: object) -> None:
        self._cancel.set()
        self._stop_started()
        (self.home / URLS_FILE).unlink(missing_ok=True)

    def stop_server(self, name: str) -> None:
        """Stop one of the servers this instance started (its data stays): an outage."""
        server = self._server(name)
        assert server.proc is not None
        stop_processes([(server.proc, server.stop_signal)], self.stop_timeout)

    def start_server(self, name: str) -> None:
        """Start a server stopped with :meth:`stop_server` again, on the same port and data."""
        server = self._server(name)
        server.prepare(self._cancel)  # idempotent: directories, permissions, configuration
        with self._lock:
            server.start()
            assert server.proc is not None
            self._pids[server.name] = server.proc.pid
        server.wait_ready(self._cancel)

    def manages(self, name: str) -> bool:
        """Whether ``name`` is a server this instance started (not one given by URL)."""
        with self._lock:
            return any(s.name == name for s in self._started)

    def _server(self, name: str) -> ManagedServer:
        with self._lock:
            found = [s for s in self._started if s.name == name]
        if not found:
            raise LookupError(f"{name} is not a server this stack started")
        return found[0]

    def _bring_up(self, server: ManagedServer) -> None:
        server.begin_log()
        server.prepare(self._cancel)
        with self._lock:
            if self._cancel.is_set():
                return
            server.start()
            assert server.proc is not None
            self._started.append(server)
            self._pids[server.name] = server.proc.pid
        server.wait_ready(self._cancel)
        server.after_ready()

    def _stop_started(self) -> None:
        with self._lock:
            servers, self._started = self._started, []
        stop_processes(
            [(s.proc, s.stop_signal) for s in servers if s.proc is not None], self.stop_timeout
        )
        for server in servers:
            server.pidfile.remove()
