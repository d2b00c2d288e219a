"""The local stack: real Kafka / PostgreSQL / Redis come up, work, and leave nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from psycopg import errors, sql

from greenai.localstack import LocalServers, ProcessGroup, ServerUrls
from greenai.localstack.ports import port_is_free
from greenai.localstack.processes import pid_alive
from streams.database import APPEND_ONLY, migrate
from streams.kafka import LIBRDKAFKA
from streams.kafka_security import (
    KafkaSecurity,
    aiokafka_security,
    confluent_security,
    faust_credentials,
)
from streams.stack_secrets import load_secrets
from streams.urls import url_user, with_password, with_schema, without_password

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PY = sys.executable
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")


def _kafka(urls: ServerUrls, **config: Any) -> dict[str, Any]:
    """confluent-kafka configuration for the stack's broker, authenticated as it wants."""
    return {
        "bootstrap.servers": urls.kafka_bootstrap_servers,
        **confluent_security(urls.kafka_security),
        **config,
    }


def _create_topic(urls: ServerUrls, name: str) -> None:
    admin = AdminClient(_kafka(urls))
    futures = admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    futures[name].result(timeout=30)


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _logged(log: Path, line_start: str) -> Callable[[], bool]:
    """A predicate: some line of ``log`` starts with ``line_start``."""
    return lambda: f"\n{line_start}" in log.read_text()


def _live_pids_in_groups(pgids: set[int]) -> list[int]:
    """Live (non-zombie) processes whose process group is one of ``pgids``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X") and int(fields[2]) in pgids:
            found.append(int(entry.name))
    return found


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and pid_alive(int(entry.name)):
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry.name))
    return found


# -- the servers work with the clients the apps use, authenticated --------------------------


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServers, ServerUrls]]:
    """A stack of its own, locked as `greenai up` locks it: SASL/SCRAM on the broker too
    (the session's broker is PLAINTEXT; see tests/conftest.py)."""
    stack = LocalServers(tmp_path_factory.mktemp("locked-home"))
    with stack as urls:
        assert urls.kafka_security is not None
        yield stack, urls


def _confluent_round_trip(urls: ServerUrls) -> None:
    topic = f"localstack-ck-{uuid.uuid4().hex[:8]}"
    _create_topic(urls, topic)

    producer = Producer(_kafka(urls, acks="all"))
    producer.produce(topic, key=b"k1", value=b"hello from confluent-kafka")
    assert producer.flush(30) == 0

    consumer = Consumer(
        _kafka(
            urls,
            **{
                "group.id": f"g-{topic}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            },
        )
    )
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 60
        msg = None
        while time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                break
        assert msg is not None and msg.error() is None, msg and msg.error()
        assert (msg.key(), msg.value()) == (b"k1", b"hello from confluent-kafka")
    finally:
        consumer.close()


async def _aiokafka_round_trip(urls: ServerUrls, auth: dict[str, Any]) -> None:
    topic = f"localstack-aio-{uuid.uuid4().hex[:8]}"
    _create_topic(urls, topic)

    producer = AIOKafkaProducer(bootstrap_servers=urls.kafka_bootstrap_servers, **auth)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello from aiokafka", key=b"k2")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=urls.kafka_bootstrap_servers,
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **auth,
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), timeout=60)
    finally:
        await consumer.stop()
    assert (msg.key, msg.value) == (b"k2", b"hello from aiokafka")


def test_confluent_kafka_produces_and_consumes(servers: ServerUrls) -> None:
    _confluent_round_trip(servers)


async def test_aiokafka_produces_and_consumes(servers: ServerUrls) -> None:
    await _aiokafka_round_trip(servers, aiokafka_security(servers.kafka_security))


def test_confluent_kafka_produces_and_consumes_with_sasl_scram(
    locked: tuple[LocalServers, ServerUrls],
) -> None:
    _confluent_round_trip(locked[1])


async def test_aiokafka_and_faust_produce_and_consume_with_sasl_scram(
    locked: tuple[LocalServers, ServerUrls],
) -> None:
    urls = locked[1]
    assert urls.kafka_security is not None
    await _aiokafka_round_trip(urls, aiokafka_security(urls.kafka_security))
    # what Faust's aiokafka driver makes of the workers' broker_credentials
    faust_auth = credentials_to_aiokafka_auth(faust_credentials(urls.kafka_security))
    await _aiokafka_round_trip(urls, {k: v for k, v in faust_auth.items() if v is not None})


def _refused(config: dict[str, Any]) -> bool:
    quiet: dict[str, Any] = {**config, "logger": LIBRDKAFKA}
    admin = AdminClient(quiet)
    try:
        admin.list_topics(timeout=4)
    except KafkaException:
        return True
    return False


def test_kafka_refuses_clients_without_the_credentials(
    locked: tuple[LocalServers, ServerUrls],
) -> None:
    urls = locked[1]
    assert urls.kafka_security is not None
    wrong = KafkaSecurity(**{**urls.kafka_security.public(), "password": "not-the-password"})
    controller = int(json.loads((locked[0].home / "ports.json").read_text())["kafka.controller"])
    assert _refused({"bootstrap.servers": urls.kafka_bootstrap_servers})
    assert _refused(
        {"bootstrap.servers": urls.kafka_bootstrap_servers, **confluent_security(wrong)}
    )
    assert _refused({"bootstrap.servers": f"127.0.0.1:{controller}"})
    assert not _refused(_kafka(urls))


def test_postgres_answers(servers: ServerUrls) -> None:
    with psycopg.connect(servers.database_url, connect_timeout=10) as conn:
        row = conn.execute("SELECT 1").fetchone()
    assert row == (1,)


def test_postgres_wants_passwords_and_the_app_role_may_not_change_the_audit_trail(
    locked: tuple[LocalServers, ServerUrls],
) -> None:
    urls = locked[1]
    schema = f"priv_{uuid.uuid4().hex[:8]}"
    owner, app = with_schema(urls.database_owner(), schema), with_schema(urls.database_url, schema)
    migrate(owner, app_role=urls.database_app_role)
    with psycopg.connect(owner, autocommit=True) as conn:  # whether or not 005 made it
        conn.execute("CREATE TABLE IF NOT EXISTS audit_log (seq bigint PRIMARY KEY, what text)")
    migrate(owner, app_role=urls.database_app_role)  # grants for whatever tables exist

    with psycopg.connect(app, autocommit=True) as conn:
        role = conn.execute(
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
        assert role == ("greenai_app", False, False, False, False)
        conn.execute("INSERT INTO recons (name, version, definition) VALUES ('p', 1, '{}')")
        conn.execute("UPDATE recons SET version = 2 WHERE name = 'p'")
        conn.execute("DELETE FROM recons WHERE name = 'p'")
        conn.execute("CREATE TEMP TABLE scratch (x int)")  # the workers' batches need these
        for table in APPEND_ONLY:
            may = conn.execute(
                "SELECT " + ", ".join(f"has_table_privilege(%(t)s, '{p}')" for p in PRIVILEGES),
                {"t": f"{schema}.{table}"},
            ).fetchone()
            assert dict(zip(PRIVILEGES, may or (), strict=True)) == {
                "SELECT": True,
                "INSERT": True,
                "UPDATE": False,
                "DELETE": False,
                "TRUNCATE": False,
            }
            column = conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s AND ordinal_position = 1",
                [schema, table],
            ).fetchone()
            assert column is not None
            target, first = sql.Identifier(table), sql.Identifier(column[0])
            for statement in (
                sql.SQL("UPDATE {} SET {} = {}").format(target, first, first),
                sql.SQL("DELETE FROM {}").format(target),
                sql.SQL("TRUNCATE {}").format(target),
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(statement)
        for forbidden in (
            "CREATE TABLE mine (x int)",
            "CREATE TABLE public.mine (x int)",
            f"CREATE SCHEMA mine_{schema}",
            "UPDATE schema_migrations SET name = name",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(forbidden.encode())

    wrong = with_password(urls.database_url, "not-the-password")
    bare = without_password(urls.database_url)
    for url in (wrong, bare):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(url, connect_timeout=10).close()


def test_redis_answers(servers: ServerUrls) -> None:
    client = redis.Redis.from_url(servers.redis_url, socket_timeout=10)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_redis_lets_in_only_its_acl_user(locked: tuple[LocalServers, ServerUrls]) -> None:
    urls = locked[1]
    port = urlsplit(urls.redis_url).port or 6379
    for client in (
        redis.Redis(port=port, socket_timeout=10),
        redis.Redis(port=port, username="default", password="", socket_timeout=10),
        redis.Redis.from_url(with_password(urls.redis_url, "not-the-password")),
    ):
        with pytest.raises(redis.AuthenticationError):
            client.ping()
        client.close()
    with redis.Redis.from_url(urls.redis_url, socket_timeout=10) as client:
        assert client.acl_whoami() == "greenai"


def test_the_home_is_private_and_no_password_leaks(
    locked: tuple[LocalServers, ServerUrls],
) -> None:
    stack, urls = locked
    home = stack.home
    assert_private(home)
    secrets = load_secrets(home)
    assert secrets is not None
    assert {name: c.user for name, c in secrets.credentials.items()} == {
        "postgres_owner": "greenai",
        "postgres_app": "greenai_app",
        "redis": "greenai",
        "kafka": "greenai",
        "kafka_controller": "controller",
    }
    assert url_user(urls.database_url) == "greenai_app"
    assert url_user(urls.database_owner()) == "greenai"
    passwords = [c.password for c in secrets.credentials.values()]
    # the Kafka JAAS configuration is the only other file holding passwords
    assert_no_password_in(home, passwords, allowed={"secrets.json", "server.properties"})
    assert_no_password_in_command_lines(passwords)
    assert "password" not in (home / "servers.json").read_text()
    assert ServerUrls.load(home / "servers.json") == urls


# -- helpers shared with test_lockdown.py ----------------------------------------------------


def assert_private(home: Path) -> None:
    """GREENAI_HOME 0700 (0710 for the postgres group when root runs PostgreSQL as that
    user), every directory under it 0700 and every file 0600 (sockets aside)."""
    mode = stat.S_IMODE(home.stat().st_mode)
    assert mode == 0o700 or (os.geteuid() == 0 and mode == 0o710), oct(mode)
    loose = []
    for root, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            st = Path(root, name).lstat()
            if stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) != 0o700:
                loose.append((Path(root, name), oct(stat.S_IMODE(st.st_mode))))
            if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) != 0o600:
                loose.append((Path(root, name), oct(stat.S_IMODE(st.st_mode))))
    assert loose == []


def assert_no_password_in(home: Path, passwords: list[str], allowed: set[str]) -> None:
    """No file under ``home`` but those named ``allowed`` holds any of ``passwords``."""
    found = []
    for root, _, files in os.walk(home):
        for name in files:
            path = Path(root, name)
            if name in allowed or not path.is_file():
                continue
            data = path.read_bytes()
            found += [path for pw in passwords if pw.encode() in data]
    assert found == []


def assert_no_password_in_command_lines(passwords: list[str]) -> None:
    """No process on the machine shows any of ``passwords`` in its command line."""
    shown = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            shown += [int(entry.name) for pw in passwords if pw.encode() in cmdline]
    assert shown == []


# -- lifecycle: stale servers are cleaned, data is kept, nothing is left behind -------------

_CRASHING_OWNER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    import psycopg, redis
    from confluent_kafka.admin import AdminClient, NewTopic
    from greenai.localstack import LocalServers
    from streams.kafka_security import confluent_security

    servers = LocalServers(Path(sys.argv[1]))
    urls = servers.__enter__()
    with psycopg.connect(urls.database_owner(), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
    redis.Redis.from_url(urls.redis_url).set("kept", "1")
    bootstrap = {"bootstrap.servers": urls.kafka_bootstrap_servers}
    admin = AdminClient({**bootstrap, **confluent_security(urls.kafka_security)})
    admin.create_topics([NewTopic("kept", 1, 1)])["kept"].result(30)
    print(json.dumps(servers.pids), flush=True)
    time.sleep(600)
    """
)


def test_restart_cleans_stale_servers_keeps_data_and_leaves_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # A first owner starts the servers, writes data, then dies without cleaning up.
    owner = subprocess.Popen([PY, "-c", _CRASHING_OWNER, str(home)], stdout=subprocess.PIPE)
    try:
        assert owner.stdout is not None
        line = owner.stdout.readline()
        assert line, "the first owner failed to start the servers"
        stale: dict[str, int] = json.loads(line)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    local, converted = LocalServers(home), LocalServers(home)
    try:
        _check_restart(home, stale, local)
        _check_a_home_from_before_the_credentials_is_converted(home, converted)
    finally:
        started = set(stale.values()) | set(local.pids.values()) | set(converted.pids.values())
        for pid in _live_pids_in_groups(started):
            os.kill(pid, signal.SIGKILL)


def _check_restart(home: Path, stale: dict[str, int], local: LocalServers) -> None:
    assert set(stale) == {"kafka", "postgres", "redis"}
    assert all(pid_alive(pid) for pid in stale.values())

    with local as urls:
        assert not any(pid_alive(pid) for pid in stale.values()), "stale servers not stopped"
        # A second owner on the same home is refused while this one runs.
        with pytest.raises(RuntimeError, match="in use"):
            LocalServers(home).__enter__()
        # The data of the first run is still there.
        _check_kept(urls)
        assert ServerUrls.load(home / "servers.json") == urls
    started = local.pids

    assert set(started) == {"kafka", "postgres", "redis"}
    everything = set(started.values()) | set(stale.values())
    assert [pid for pid in everything if pid_alive(pid)] == []
    assert _live_pids_in_groups(everything) == []
    assert _processes_mentioning(str(home)) == []
    ports = [
        int(urls.kafka_bootstrap_servers.rsplit(":", 1)[1]),
        urlsplit(urls.database_url).port,
        urlsplit(urls.redis_url).port,
    ]
    assert all(port is not None and port_is_free(port) for port in ports)
    assert not (home / "servers.json").exists()


def _check_kept(urls: ServerUrls) -> None:
    """The data the crashing owner wrote is there."""
    with psycopg.connect(urls.database_owner()) as conn:
        assert conn.execute("SELECT to_regclass('kept') IS NOT NULL").fetchone() == (True,)
    client = redis.Redis.from_url(urls.redis_url)
    assert client.get("kept") == b"1"
    client.close()
    assert "kept" in AdminClient(_kafka(urls)).list_topics(timeout=30).topics


def _check_a_home_from_before_the_credentials_is_converted(home: Path, local: LocalServers) -> None:
    """A home as the stack made them before it had credentials: PostgreSQL initialised
    with trust, no secrets.json (so Kafka's data has no SCRAM credential for the new
    password). It starts with new credentials and keeps its data."""
    old = load_secrets(home)
    assert old is not None
    (home / "secrets.json").unlink()
    hba = home / "postgres" / "data" / "pg_hba.conf"
    hba.write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    with local as urls:
        _check_kept(urls)
        assert "trust" not in hba.read_text()
        new = load_secrets(home)
        assert new is not None and new["postgres_owner"].password != old["postgres_owner"].password
        for name in ("postgres_owner", "postgres_app"):
            with pytest.raises(psycopg.OperationalError, match="password"):
                url = urls.database_owner() if name == "postgres_owner" else urls.database_url
                psycopg.connect(with_password(url, old[name].password)).close()
        assert_private(home)
    assert_no_password_in(home, [old[n].password for n in old.credentials], allowed=set())


def test_given_urls_start_nothing(tmp_path: Path) -> None:
    given = ServerUrls("127.0.0.1:1", "postgresql://u@127.0.0.1:2/db", "redis://127.0.0.1:3/0")
    local = LocalServers(
        tmp_path,
        kafka_bootstrap_servers=given.kafka_bootstrap_servers,
        database_url=given.database_url,
        redis_url=given.redis_url,
    )
    with local as urls:
        assert urls == given
    assert local.pids == {}


# -- ProcessGroup -----------------------------------------------------------------------------

_SLEEPER = (
    "import os, time; print('up', os.environ['GREENAI_TEST_VAR'], flush=True); time.sleep(120)"
)
_STUBBORN = (
    "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
    "print('up', flush=True); time.sleep(120)"
)


def test_process_group_stop_all_leaves_nothing(tmp_path: Path) -> None:
    group = ProcessGroup(tmp_path / "logs")
    try:
        group.start("polite", [PY, "-c", _SLEEPER], {"GREENAI_TEST_VAR": "hello"})
        group.start("stubborn", [PY, "-c", _STUBBORN], {})
        for name in ("polite", "stubborn"):
            _wait_for(_logged(group.log_path(name), "up"), 30, f"{name} up")
        assert "\nup hello\n" in group.log_path("polite").read_text()
        pgids = set(group.pids.values())
        assert len(_live_pids_in_groups(pgids)) == 3  # two children and a grandchild

        started = time.monotonic()
        group.stop_all(timeout=2)
        assert time.monotonic() - started < 15
    finally:
        group.stop_all(timeout=2)
    assert _live_pids_in_groups(set(group.pids.values())) == []


def test_process_group_first_exit_reports_the_dead_child(tmp_path: Path) -> None:
    group = ProcessGroup(tmp_path / "logs")
    try:
        group.start("sleeper", [PY, "-c", _SLEEPER], {"GREENAI_TEST_VAR": "x"})
        group.start("boom", [PY, "-c", "raise SystemExit(3)"], {})
        assert group.first_exit(timeout=30) == ("boom", 3)
        assert group.first_exit(timeout=0.3) is None
    finally:
        group.stop_all()
    assert _live_pids_in_groups(set(group.pids.values())) == []
