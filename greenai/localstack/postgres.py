"""PostgreSQL from the OS packages in a project-owned data directory."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import stat
import threading
from pathlib import Path
from typing import Any

import psycopg

from greenai.localstack.base import ManagedServer
from greenai.localstack.processes import run_step

__all__ = ["DB_NAME", "DB_USER", "PostgresServer", "find_pg_bindir"]

DB_USER = "greenai"
DB_NAME = "greenai"
SYSTEM_USER = "postgres"  # PostgreSQL refuses to run as root
_MAX_SOCKET_DIR = 90  # sun_path is 108 bytes including "/.s.PGSQL.NNNNN"


def find_pg_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/*/bin``, else wherever ``postgres`` is on PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", path.parent.name))

    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")]
    if candidates:
        return max(candidates, key=version)
    found = shutil.which("postgres")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found; run infra/install-system-packages.sh")


def _make_traversable(path: Path, uid: int) -> None:
    """Add o+x to each ancestor of ``path`` that ``uid`` could not enter."""
    for parent in path.parents:
        st = parent.stat()
        if st.st_uid != uid and not st.st_mode & stat.S_IXOTH:
            os.chmod(parent, stat.S_IMODE(st.st_mode) | stat.S_IXOTH)


class PostgresServer(ManagedServer):
    """``postgres`` with trust auth on 127.0.0.1, data in ``home/postgres/data``."""

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: SIGTERM would wait for clients to leave
    ready_timeout = 90.0

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.bindir: Path | None = None
        self._as_user = SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.ports['port']}/{DB_NAME}"

    def user(self) -> str | None:
        return self._as_user

    def _own(self, path: Path) -> None:
        if self._as_user is not None:
            pw = pwd.getpwnam(self._as_user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def prepare(self, cancel: threading.Event) -> None:
        self.bindir = find_pg_bindir()
        uid = None
        if self._as_user is not None:
            try:
                uid = pwd.getpwnam(self._as_user).pw_uid
            except KeyError:
                raise RuntimeError(
                    f"running as root needs the '{self._as_user}' system user "
                    "(installed with the postgresql package)"
                ) from None
        for path in (self.root, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o700)
            self._own(path)
        if uid is not None:
            _make_traversable(self.root, uid)
            if self.data_dir.exists() and self.data_dir.stat().st_uid != uid:
                for path in (self.data_dir, *self.data_dir.rglob("*")):
                    self._own(path)
        if (self.data_dir / "PG_VERSION").exists():
            return
        staging = self.root / "data.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        argv = [
            str(self.bindir / "initdb"),
            "-D",
            str(staging),
            "-U",
            DB_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-instructions",
        ]
        run_step(
            argv,
            what="initdb",
            log_path=self.log_path,
            cancel=cancel,
            timeout=300,
            env={**os.environ, "LC_ALL": "C"},
            user=self._as_user,
        )
        os.replace(staging, self.data_dir)

    def argv(self) -> list[str]:
        assert self.bindir is not None
        sockets = str(self.socket_dir) if len(str(self.socket_dir)) <= _MAX_SOCKET_DIR else ""
        return [
            str(self.bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.ports["port"]),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={sockets}",
            "-c",
            "logging_collector=off",
            "-c",
            "log_destination=stderr",
            "-c",
            "max_connections=200",
        ]

    def env(self) -> dict[str, str]:
        return {**os.environ, "LC_ALL": "C"}

    def _connect(self, dbname: str) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.ports["port"],
            user=DB_USER,
            dbname=dbname,
            connect_timeout=2,
            autocommit=True,
        )

    def probe(self) -> bool:
        try:
            with self._connect("postgres") as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def after_ready(self) -> None:
        with self._connect("postgres") as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
            ).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        with self._connect(DB_NAME) as conn:
            conn.execute("SELECT 1")
