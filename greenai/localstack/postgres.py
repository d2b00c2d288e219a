"""PostgreSQL from the OS packages in a project-owned data directory, passwords only.

The roles and ``pg_hba.conf`` are ``greenai.localstack.postgres_auth``'s.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import stat
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg

from greenai.localstack.base import ManagedServer
from greenai.localstack.postgres_auth import (
    HBA,
    ensure_app_role,
    hba_trusts,
    set_password_statement,
)
from greenai.localstack.private import DIR_MODE, write_private
from greenai.localstack.processes import run_step
from greenai.localstack.secrets import AppliedMark
from streams.stack_secrets import StackSecrets
from streams.urls import with_password

__all__ = ["DB_NAME", "PostgresServer", "find_pg_bindir"]

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


def _make_traversable(path: Path, home: Path, uid: int, gid: int) -> None:
    """Let ``uid`` (in group ``gid``) reach ``path``: GREENAI_HOME gets group ``gid`` and
    mode 0710 (it stays closed to everyone else); each ancestor outside it that ``uid``
    could not enter gets o+x."""
    os.chown(home, -1, gid)
    os.chmod(home, DIR_MODE | stat.S_IXGRP)
    for parent in home.parents:
        st = parent.stat()
        if st.st_uid != uid and not st.st_mode & stat.S_IXOTH:
            os.chmod(parent, stat.S_IMODE(st.st_mode) | stat.S_IXOTH)


class PostgresServer(ManagedServer):
    """``postgres`` on 127.0.0.1 with scram-sha-256 logins, data in ``home/postgres/data``."""

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: SIGTERM would wait for clients to leave
    ready_timeout = 90.0

    def __init__(self, home: Path, secrets: StackSecrets) -> None:
        super().__init__(home, secrets)
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.owner = secrets["postgres_owner"]
        self.app = secrets["postgres_app"]
        self.owner_mark = AppliedMark(self.root / "owner-password.applied")
        self.bindir: Path | None = None
        self._as_user = SYSTEM_USER if os.geteuid() == 0 else None

    def _url(self, user: str, password: str) -> str:
        bare = f"postgresql://{user}@127.0.0.1:{self.ports['port']}/{DB_NAME}"
        return with_password(bare, password)

    @property
    def url(self) -> str:
        """The application role's URL."""
        return self._url(self.app.user, self.app.password)

    @property
    def owner_url(self) -> str:
        """The owner's URL (migrations)."""
        return self._url(self.owner.user, self.owner.password)

    def user(self) -> str | None:
        return self._as_user

    def _own(self, path: Path) -> None:
        if self._as_user is not None:
            pw = pwd.getpwnam(self._as_user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def prepare(self, cancel: threading.Event) -> None:
        self.bindir = find_pg_bindir()
        system_user = None
        if self._as_user is not None:
            try:
                system_user = pwd.getpwnam(self._as_user)
            except KeyError:
                raise RuntimeError(
                    f"running as root needs the '{self._as_user}' system user "
                    "(installed with the postgresql package)"
                ) from None
        for path in (self.root, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, DIR_MODE)
            self._own(path)
        if system_user is not None:
            _make_traversable(self.root, self.home, system_user.pw_uid, system_user.pw_gid)
            if self.data_dir.exists() and self.data_dir.stat().st_uid != system_user.pw_uid:
                for path in (self.data_dir, *self.data_dir.rglob("*")):
                    self._own(path)
        hba = self.data_dir / "pg_hba.conf"
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(cancel)
        elif hba_trusts(hba) or not self.owner_mark.holds(self.owner):
            self._set_owner_password(cancel)
        write_private(hba, HBA)
        self._own(hba)

    def _initdb(self, cancel: threading.Event) -> None:
        """A new cluster whose bootstrap superuser is the owner, with its password."""
        assert self.bindir is not None
        staging = self.root / "data.initdb"
        pwfile = self.root / "initdb.pw"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        argv = [
            str(self.bindir / "initdb"),
            "-D",
            str(staging),
            "-U",
            self.owner.user,
            "-A",
            "scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-instructions",
        ]
        try:
            write_private(pwfile, self.owner.password + "\n")
            self._own(pwfile)
            run_step(
                argv,
                what="initdb",
                log_path=self.log_path,
                cancel=cancel,
                timeout=300,
                env=self.env(),
                user=self._as_user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        os.replace(staging, self.data_dir)
        self.owner_mark.record(self.owner)

    def _set_owner_password(self, cancel: threading.Event) -> None:
        """Give the owner its password in single-user mode (no server, no login): converts
        a home made with ``initdb -A trust``, or one whose secrets.json was replaced."""
        assert self.bindir is not None
        print(
            f"greenai: setting the PostgreSQL owner's password in {self.data_dir} "
            "(a home from before the local stack had credentials)",
            file=sys.stderr,
            flush=True,
        )
        run_step(
            [str(self.bindir / "postgres"), "--single", "-D", str(self.data_dir), "postgres"],
            what="PostgreSQL single-user mode (setting the owner's password)",
            log_path=self.log_path,
            cancel=cancel,
            timeout=120,
            env=self.env(),
            user=self._as_user,
            input=set_password_statement(self.owner).encode(),
        )
        self.owner_mark.record(self.owner)

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
            "unix_socket_permissions=0700",
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
            user=self.owner.user,
            password=self.owner.password,
            dbname=dbname,
            connect_timeout=2,
            autocommit=True,
        )

    def probe(self) -> bool:
        try:
            with self._connect("postgres") as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            if "password authentication failed" in str(exc):
                raise RuntimeError(
                    f"PostgreSQL refused the owner's password from {self.home / 'secrets.json'}"
                    f"; see {self.log_path}"
                ) from None
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
            ensure_app_role(conn, self.app, DB_NAME)
