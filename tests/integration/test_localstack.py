"""The local stack: real Kafka / PostgreSQL / Redis come up, work, and leave nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from greenai.localstack import LocalServers, ProcessGroup, ServerUrls
from greenai.localstack.ports import port_is_free
from greenai.localstack.processes import pid_alive

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PY = sys.executable


def _create_topic(bootstrap: str, name: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
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


# -- the shared servers work with the clients the apps use ---------------------------------


def test_confluent_kafka_produces_and_consumes(servers: ServerUrls) -> None:
    topic = f"localstack-ck-{uuid.uuid4().hex[:8]}"
    _create_topic(servers.kafka_bootstrap_servers, topic)

    producer = Producer({"bootstrap.servers": servers.kafka_bootstrap_servers, "acks": "all"})
    producer.produce(topic, key=b"k1", value=b"hello from confluent-kafka")
    assert producer.flush(30) == 0

    consumer = Consumer(
        {
            "bootstrap.servers": servers.kafka_bootstrap_servers,
            "group.id": f"g-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
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


async def test_aiokafka_produces_and_consumes(servers: ServerUrls) -> None:
    topic = f"localstack-aio-{uuid.uuid4().hex[:8]}"
    _create_topic(servers.kafka_bootstrap_servers, topic)

    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka_bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello from aiokafka", key=b"k2")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers.kafka_bootstrap_servers,
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), timeout=60)
    finally:
        await consumer.stop()
    assert (msg.key, msg.value) == (b"k2", b"hello from aiokafka")


def test_postgres_answers(servers: ServerUrls) -> None:
    with psycopg.connect(servers.database_url, connect_timeout=10) as conn:
        row = conn.execute("SELECT 1").fetchone()
    assert row == (1,)


def test_redis_answers(servers: ServerUrls) -> None:
    client = redis.Redis.from_url(servers.redis_url, socket_timeout=10)
    try:
        assert client.ping() is True
    finally:
        client.close()


# -- lifecycle: stale servers are cleaned, data is kept, nothing is left behind -------------

_CRASHING_OWNER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    import psycopg, redis
    from confluent_kafka.admin import AdminClient, NewTopic
    from greenai.localstack import LocalServers

    servers = LocalServers(Path(sys.argv[1]))
    urls = servers.__enter__()
    with psycopg.connect(urls.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
    redis.Redis.from_url(urls.redis_url).set("kept", "1")
    admin = AdminClient({"bootstrap.servers": urls.kafka_bootstrap_servers})
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
    local = LocalServers(home)
    try:
        _check_restart(home, stale, local)
    finally:
        for pid in _live_pids_in_groups(set(stale.values()) | set(local.pids.values())):
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
        with psycopg.connect(urls.database_url) as conn:
            assert conn.execute("SELECT to_regclass('kept') IS NOT NULL").fetchone() == (True,)
        client = redis.Redis.from_url(urls.redis_url)
        assert client.get("kept") == b"1"
        client.close()
        admin = AdminClient({"bootstrap.servers": urls.kafka_bootstrap_servers})
        assert "kept" in admin.list_topics(timeout=30).topics
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
