"""Shared helpers of the connector integration tests: an isolated greenai environment on the
session's servers (topics under a fresh prefix, a fresh PostgreSQL schema, no workers), and
reading a topic back to its end."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from greenai.localstack import ProcessGroup, ServerUrls
from greenai.localstack.accounts import ensure_accounts
from greenai.up import PROCESSES
from streams.avro import codec, value_from_avro
from streams.batches import BatchCodec
from streams.topics import Topics, ensure_topics
from tests.integration.pipeline import GREENAI, ROOT, Pipeline, isolated_env, wait_for_bff


def read_topic(bootstrap: str, topic: str, timeout: float = 30.0) -> list[bytes]:
    """Every message value in ``topic`` now, read to the end; in offset order per partition
    (so the last value of a key is its latest)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "reader",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 20,
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics[topic]
        ends: dict[int, int] = {}
        starts = []
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
            if high > low:
                ends[p] = high - 1
                starts.append(TopicPartition(topic, p, low))
        values: dict[int, list[bytes]] = {p: [] for p in ends}
        consumer.assign(starts)
        while ends:
            message = consumer.poll(timeout)
            assert message is not None, f"{topic}: no message after {timeout}s"
            assert not message.error(), message.error()
            p, offset, value = message.partition(), message.offset(), message.value()
            assert p is not None and offset is not None and value is not None
            if p not in ends:  # produced after we looked: not part of "now"
                continue
            values[p].append(value)
            if offset >= ends[p]:
                del ends[p]
        return [v for p in sorted(values) for v in values[p]]
    finally:
        consumer.close()


@dataclass
class Sandbox:
    """A greenai environment of its own: prefix, schema, GREENAI_HOME and its BFF."""

    env: dict[str, str]
    home: Path
    group: ProcessGroup

    def close(self) -> None:
        self.group.stop_all()
        if self in OPEN:
            OPEN.remove(self)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def bootstrap(self) -> str:
        return self.env["KAFKA_BOOTSTRAP_SERVERS"]

    @property
    def topics(self) -> Topics:
        return Topics(self.env["GREENAI_TOPIC_PREFIX"])

    def cli(
        self, *args: str, check: bool = True, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*GREENAI, *args],
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"greenai {' '.join(args)} failed: {done.stderr.strip()}")
        return done

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*GREENAI, *args],
            env=self.env | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def apply(self, yaml_text: str) -> None:
        path = self.home / "recon.yaml"
        path.write_text(yaml_text)
        self.cli("recon", "apply", str(path))

    def records(self) -> list[dict[str, Any]]:
        """SourceRecords published so far, with fields decoded to typed values."""
        decoded = []
        batches = BatchCodec("SourceRecord")
        for value in read_topic(self.bootstrap, self.topics.records):
            for record in batches.decode(value, record_names=True):
                record["fields"] = {k: value_from_avro(v) for k, v in record["fields"].items()}
                decoded.append(record)
        return decoded

    def dead_letters(self) -> list[dict[str, Any]]:
        return [
            codec("DeadLetter").decode(v)
            for v in read_topic(self.bootstrap, self.topics.deadletter)
        ]


OPEN: list[Sandbox] = []  # stopped at the end of the module that made them (tests/conftest.py)


def sandbox(servers: ServerUrls, home: Path, name: str) -> Sandbox:
    """Topics and schema migrated for a fresh prefix, and a BFF (the command line applies
    recons and reads them through it); no workers: nothing consumes the records."""
    home.mkdir(parents=True, exist_ok=True)
    env = isolated_env(servers, home, name)
    ensure_topics(servers.kafka_bootstrap_servers, env["GREENAI_TOPIC_PREFIX"])
    url = f"http://127.0.0.1:{env['GREENAI_BFF_PORT']}"
    bff = Pipeline(env, url, ProcessGroup(home / "logs"), home)
    bff.start("bff", PROCESSES["bff"], **ensure_accounts(home).bff_env(demo=False))
    box = Sandbox(env, home, bff.group)
    OPEN.append(box)
    try:
        wait_for_bff(bff)
    except BaseException:
        box.close()
        raise
    return box
