"""Topic names and their specs (``infra/kafka/topics.yaml``), created idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

from streams.kafka import FROM_SETTINGS, Security, resolve_security
from streams.kafka_security import confluent_security

SPEC_FILE = Path(__file__).resolve().parent.parent / "infra" / "kafka" / "topics.yaml"
DEFAULT_PARTITIONS = 12  # of the topics whose spec says `scaled` (GREENAI_PARTITIONS)


@dataclass(frozen=True)
class Topics:
    """The names of greenai's topics under one prefix (tests isolate by prefix)."""

    prefix: str = "greenai"

    def name(self, suffix: str) -> str:
        return f"{self.prefix}.{suffix}"

    @property
    def records(self) -> str:
        return self.name("records")

    @property
    def diff_timers(self) -> str:
        return self.name("diff.timers")

    @property
    def commands(self) -> str:
        return self.name("commands")

    @property
    def breaks(self) -> str:
        return self.name("breaks")

    @property
    def attributed(self) -> str:
        return self.name("breaks.attributed")

    @property
    def matches(self) -> str:
        return self.name("matches")

    @property
    def deadletter(self) -> str:
        return self.name("deadletter")

    @property
    def feedback(self) -> str:
        return self.name("feedback")


def topic_specs(prefix: str, partitions: int = DEFAULT_PARTITIONS) -> list[NewTopic]:
    """The topics of ``infra/kafka/topics.yaml``, ``scaled`` ones with ``partitions``."""
    specs = yaml.safe_load(SPEC_FILE.read_text())
    return [
        NewTopic(
            f"{prefix}{suffix}" if suffix.startswith("-") else f"{prefix}.{suffix}",
            num_partitions=partitions if spec["partitions"] == "scaled" else spec["partitions"],
            replication_factor=spec.get("replication", 1),
            config={k: str(v) for k, v in spec.get("config", {}).items()},
        )
        for suffix, spec in specs.items()
    ]


def ensure_topics(
    bootstrap: str,
    prefix: str,
    timeout: float = 30.0,
    *,
    partitions: int = DEFAULT_PARTITIONS,
    security: Security = FROM_SETTINGS,
) -> list[str]:
    """Create the topics that do not exist yet and bring the configuration of those that do
    to the spec (incrementally: settings the spec does not name are left alone; partition
    counts never change); returns the names created. ``security`` as for the clients of
    ``streams.kafka``."""
    admin = _admin(bootstrap, security)
    existing = set(admin.list_topics(timeout=timeout).topics)
    specs = topic_specs(prefix, partitions)
    wanted = [t for t in specs if t.topic not in existing]
    created = []
    futures = admin.create_topics(wanted, request_timeout=timeout) if wanted else {}
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except Exception as exc:  # a concurrent creator is fine
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    kept = [
        ConfigResource(
            ConfigResource.Type.TOPIC,
            t.topic,
            incremental_configs=[
                ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                for k, v in t.config.items()
            ],
        )
        for t in specs
        if t.topic in existing and t.config
    ]
    for future in (admin.incremental_alter_configs(kept) if kept else {}).values():
        future.result()
    return created


def partition_count(bootstrap: str, topic: str, *, security: Security = FROM_SETTINGS) -> int:
    """How many partitions ``topic`` has now."""
    found = _admin(bootstrap, security).list_topics(topic, timeout=30).topics[topic]
    return len(found.partitions)


def _admin(bootstrap: str, security: Security) -> AdminClient:
    return AdminClient(
        {
            "bootstrap.servers": bootstrap,
            **confluent_security(resolve_security(security, bootstrap)),
        }
    )


if __name__ == "__main__":  # `python -m streams.topics`: create the topics (compose, k8s jobs)
    from streams.settings import load_settings

    settings = load_settings()
    made = ensure_topics(settings.kafka(), settings.topic_prefix, partitions=settings.partitions)
    print(f"topics created: {', '.join(made) or 'none (all exist)'}")
