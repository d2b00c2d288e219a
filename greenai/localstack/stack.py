"""Start the missing servers (Kafka, PostgreSQL, Redis) in parallel; stop exactly those."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path

from greenai.localstack.base import ManagedServer
from greenai.localstack.kafka import KafkaServer
from greenai.localstack.ports import PortBook
from greenai.localstack.postgres import PostgresServer
from greenai.localstack.private import DIR_MODE, lock_down, write_private
from greenai.localstack.processes import stop_processes
from greenai.localstack.redis import RedisServer
from greenai.localstack.secrets import ensure_secrets
from greenai.localstack.server_urls import OWNER_URL_VARIABLE, ServerUrls
from streams.kafka_security import KafkaSecurity, security_from_env

__all__ = ["LocalServers", "ServerUrls"]

URLS_FILE = "servers.json"


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
        database_owner_url: str | None = None,
        kafka_security: KafkaSecurity | None = None,
        kafka_sasl: bool = True,
    ) -> None:
        """Servers given by URL are used as they are (``database_owner_url`` and
        ``kafka_security`` describe given ones); the others start under ``home``, locked
        with the credentials of ``home/secrets.json`` (made on the first start).
        ``kafka_sasl=False`` leaves the local broker's client port on PLAINTEXT."""
        self.home = Path(home).absolute()
        self._given = {
            "kafka": kafka_bootstrap_servers,
            "postgres": database_url,
            "redis": redis_url,
        }
        self._given_owner_url = database_owner_url
        self._given_security = kafka_security
        self._kafka_sasl = kafka_sasl
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._started: list[ManagedServer] = []
        self._pids: dict[str, int] = {}
        self._entered = False
        self.urls: ServerUrls | None = None

    @classmethod
    def from_environ(
        cls, home: Path, environ: Mapping[str, str] | None = None, *, kafka_sasl: bool = True
    ) -> LocalServers:
        """Use KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL / REDIS_URL when set (and non-empty),
        with GREENAI_DATABASE_OWNER_URL and KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* for them."""
        env = os.environ if environ is None else environ
        kafka = env.get("KAFKA_BOOTSTRAP_SERVERS") or None
        database = env.get("DATABASE_URL") or None
        return cls(
            home,
            kafka_bootstrap_servers=kafka,
            database_url=database,
            redis_url=env.get("REDIS_URL") or None,
            database_owner_url=(env.get(OWNER_URL_VARIABLE) or None) if database else None,
            kafka_security=security_from_env(env) if kafka else None,
            kafka_sasl=kafka_sasl,
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
        # created private; an existing home's modes are fixed below, once no stale server
        # (PostgreSQL running as the postgres user needs to reach its data) runs any more
        self.home.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        servers = self._local_servers()
        for server in servers:
            server.stop_stale()
        lock_down(self.home)  # a home made before, or by a looser umask (no server runs now)
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

        result = self._urls(servers)
        self.urls = result
        write_private(
            self.home / URLS_FILE, json.dumps({**result.public(), "pid": os.getpid()}, indent=2)
        )
        return result

    def _local_servers(self) -> list[ManagedServer]:
        """The servers not given by URL, with this home's credentials (made if missing)."""
        missing = [name for name, url in self._given.items() if url is None]
        if not missing:
            return []
        secrets = ensure_secrets(self.home)
        servers: list[ManagedServer] = []
        if "kafka" in missing:
            servers.append(KafkaServer(self.home, secrets, sasl=self._kafka_sasl))
        if "postgres" in missing:
            servers.append(PostgresServer(self.home, secrets))
        if "redis" in missing:
            servers.append(RedisServer(self.home, secrets))
        return servers

    def _urls(self, servers: list[ManagedServer]) -> ServerUrls:
        by_name = {s.name: s for s in servers}
        kafka, postgres = by_name.get("kafka"), by_name.get("postgres")
        return ServerUrls(
            kafka_bootstrap_servers=self._given["kafka"] or by_name["kafka"].url,
            database_url=self._given["postgres"] or by_name["postgres"].url,
            redis_url=self._given["redis"] or by_name["redis"].url,
            database_owner_url=(
                postgres.owner_url
                if isinstance(postgres, PostgresServer)
                else self._given_owner_url
            ),
            kafka_security=(
                kafka.security if isinstance(kafka, KafkaServer) else self._given_security
            ),
        )

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
