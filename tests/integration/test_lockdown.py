"""``greenai up`` locked down: the workers and the BFF work with the stack's credentials
(SASL/SCRAM to Kafka, the application role in PostgreSQL, the Redis ACL user), a process of
the same home finds them through GREENAI_HOME alone, and no password shows in a command
line, stack.json, servers.json or a log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from greenai.localstack.ports import free_port
from streams.database import save_recon
from streams.ingest.files import RawRow
from streams.ingest.publisher import SourcePublisher
from streams.ingest.synthetic import TradeGenerator
from streams.kafka import SafeProducer
from streams.recon import load_recon
from streams.settings import load_settings
from streams.stack_secrets import StackSecrets, load_secrets
from streams.topics import Topics
from streams.urls import url_user, with_password
from tests.integration.test_localstack import (
    assert_no_password_in,
    assert_no_password_in_command_lines,
    assert_private,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
DEMO_RECON = ROOT / "examples" / "demo" / "trades.yaml"
SERVER_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL")


class Stack:
    def __init__(self, home: Path, process: subprocess.Popen[str]) -> None:
        self.home, self.process = home, process

    @property
    def secrets(self) -> StackSecrets:
        found = load_secrets(self.home)
        assert found is not None
        return found

    def children(self) -> dict[str, int]:
        """Pid of each app child of ``greenai up`` by module (``streams.diff``, ``bff``...)."""
        found = {}
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text()
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid and b"-m" in argv:
                found[argv[argv.index(b"-m") + 1].decode()] = int(entry.name)
        return found


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("lockdown") / "home"
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    env |= {"GREENAI_HOME": str(home), "GREENAI_BFF_PORT": str(free_port())}
    process = subprocess.Popen(
        [sys.executable, "-m", "greenai", "up"],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "greenai is up" in line:
            break
    else:
        raise AssertionError("greenai up did not come up:\n" + "".join(lines[-30:]))
    try:
        yield Stack(home, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)


def test_breaks_flow_through_the_locked_servers(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records published by a process that knows only GREENAI_HOME (the clients' default
    security comes from stack.json and secrets.json) go through the diff and attribution
    workers (Faust over SASL/SCRAM) and the BFF's sink into PostgreSQL."""
    for name in (*SERVER_VARIABLES, "KAFKA_SECURITY_PROTOCOL", "GREENAI_DATABASE_OWNER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GREENAI_HOME", str(stack.home))
    settings = load_settings()
    recon = load_recon(DEMO_RECON)
    save_recon(settings.database(), recon)
    producer = SafeProducer(settings.kafka())
    topics = Topics(settings.topic_prefix)
    ledger = SourcePublisher(producer, topics, recon, "ledger")
    custody = SourcePublisher(producer, topics, recon, "custody")
    generator = TradeGenerator(seed=5, break_rate=1.0)
    for n in range(20):
        pair = generator.pair()
        for row in pair.ledger:
            ledger.publish(RawRow(f"ledger:{n}", row))
        for row in pair.custody:
            custody.publish(RawRow(f"custody:{n}", row))
    producer.flush()
    deadline = time.monotonic() + 180
    stored = 0
    with psycopg.connect(settings.database(), autocommit=True) as conn:
        while stored == 0 and time.monotonic() < deadline:
            time.sleep(1)
            found = conn.execute("SELECT count(*) FROM breaks WHERE cause IS NOT NULL").fetchone()
            stored = int(found[0]) if found else 0
    assert stored > 0, "no attributed break reached PostgreSQL"


def test_the_workers_connect_as_the_application_role_without_the_owners_url(
    stack: Stack,
) -> None:
    children = stack.children()
    assert {"streams.diff", "streams.attribution", "bff"} <= set(children)
    for pid in children.values():
        environ = dict(
            item.split(b"=", 1)
            for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if b"=" in item
        )
        assert url_user(environ[b"DATABASE_URL"].decode()) == "greenai_app"
        assert environ[b"GREENAI_DATABASE_OWNER_URL"] == b""
        assert environ[b"KAFKA_SECURITY_PROTOCOL"] == b"SASL_PLAINTEXT"
    stack_file = json.loads((stack.home / "stack.json").read_text())
    owner = stack.secrets["postgres_owner"]
    with psycopg.connect(with_password(stack_file["database_owner_url"], owner.password)) as conn:
        deadline = time.monotonic() + 60
        while True:  # the workers open their connections as they start
            users = conn.execute(
                "SELECT DISTINCT a.usename, r.rolsuper FROM pg_stat_activity a "
                "JOIN pg_roles r ON r.rolname = a.usename "
                "WHERE a.datname = 'greenai' AND a.backend_type = 'client backend' "
                "AND a.pid <> pg_backend_pid()"
            ).fetchall()
            if users or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert users == [("greenai_app", False)]


def test_no_password_in_command_lines_files_or_logs(stack: Stack) -> None:
    passwords = [c.password for c in stack.secrets.credentials.values()]
    assert_no_password_in_command_lines(passwords)
    for name in ("stack.json", "servers.json"):
        text = (stack.home / name).read_text()
        assert "password" not in text and not any(pw in text for pw in passwords)
    assert_no_password_in(stack.home, passwords, allowed={"secrets.json", "server.properties"})
    assert_private(stack.home)
