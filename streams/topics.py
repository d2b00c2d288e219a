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


def topic_specs(prefix: str) -> list[NewTopic]:
    specs = yaml.safe_load(SPEC_FILE.read_text())
    return [
        NewTopic(
            f"{prefix}{suffix}" if suffix.startswith("-") else f"{prefix}.{suffix}",
            num_partitions=spec["partitions"],
            replication_factor=spec.get("replication", 1),
            config={k: str(v) for k, v in spec.get("config", {}).items()},
        )
        for suffix, spec in specs.items()
    ]


def ensure_topics(
    bootstrap: str, prefix: str, timeout: float = 30.0, *, security: Security = FROM_SETTINGS
) -> list[str]:
    """Create the topics that do not exist yet and bring the configuration of those that do
    to the spec (incrementally: settings the spec does not name are left alone); returns
    the names created. ``security`` as for the clients of ``streams.kafka``."""
    admin = AdminClient(
        {
            "bootstrap.servers": bootstrap,
            **confluent_security(resolve_security(security, bootstrap)),
        }
    )
    existing = set(admin.list_topics(timeout=timeout).topics)
    specs = topic_specs(prefix)
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


if __name__ == "__main__":  # `python -m streams.topics`: create the topics (compose, k8s jobs)
    from streams.settings import load_settings

    settings = load_settings()
    made = ensure_topics(settings.kafka(), settings.topic_prefix)
    print(f"topics created: {', '.join(made) or 'none (all exist)'}")
