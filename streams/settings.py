"""Settings from the environment, falling back to the local stack's ports and credentials.

``greenai up`` writes ``$GREENAI_HOME/stack.json`` (where the servers are, without any
password) and keeps the credentials in ``$GREENAI_HOME/secrets.json`` (mode 0600); every
other command and worker reads both, so several stacks can run side by side, each found
through its own ``GREENAI_HOME``. Variables that are set always win.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.kafka_security import IncompleteKafkaSecurity, KafkaSecurity, parse_security
from streams.stack_secrets import StackSecrets, load_secrets

STACK_FILE = "stack.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    greenai_home: Path = Field(default_factory=lambda: Path.cwd() / ".greenai")
    kafka_bootstrap_servers: str | None = None
    # URLs carry passwords: kept out of the repr (and so out of tracebacks and logs)
    database_url: str | None = Field(None, repr=False)  # the application role
    database_owner_url: str | None = Field(None, alias="GREENAI_DATABASE_OWNER_URL", repr=False)
    redis_url: str | None = Field(None, repr=False)
    kafka_security_protocol: str | None = None
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = Field(None, repr=False)
    bff_host: str = Field("127.0.0.1", alias="GREENAI_BFF_HOST")
    bff_port: int = Field(8000, alias="GREENAI_BFF_PORT")
    topic_prefix: str = Field("greenai", alias="GREENAI_TOPIC_PREFIX")
    worker_id: str = Field("1", alias="GREENAI_WORKER_ID")
    # partitions of the scaled topics (infra/kafka/topics.yaml) when greenai creates them;
    # the workers must be told the count the topics have
    partitions: int = Field(12, alias="GREENAI_PARTITIONS", ge=1, le=10_000)
    log_level: str = Field("INFO", alias="GREENAI_LOG_LEVEL")

    @property
    def stack_file(self) -> Path:
        return self.greenai_home / STACK_FILE

    @property
    def logs_dir(self) -> Path:
        return self.greenai_home / "logs"

    @property
    def state_dir(self) -> Path:
        return self.greenai_home / "state"

    @property
    def bff_url(self) -> str:
        return f"http://{self.bff_host}:{self.bff_port}"

    def kafka(self) -> str:
        return _required(self.kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS")

    def kafka_security(self) -> KafkaSecurity | None:
        """How Kafka clients authenticate (None: PLAINTEXT)."""
        try:
            return parse_security(
                self.kafka_security_protocol,
                self.kafka_sasl_mechanism,
                self.kafka_sasl_username,
                self.kafka_sasl_password,
            )
        except IncompleteKafkaSecurity as exc:
            raise NotConfigured(str(exc)) from None

    def database(self) -> str:
        """The application role's URL, with its password: what workers, the BFF and the CLI
        use."""
        return _required(self.database_url, "DATABASE_URL")

    def database_owner(self) -> str:
        """The owner role's URL, with its password: for migrations only."""
        return _required(self.database_owner_url, "GREENAI_DATABASE_OWNER_URL")

    def redis(self) -> str:
        """The Redis URL with its ACL user and password."""
        return _required(self.redis_url, "REDIS_URL")


class NotConfigured(RuntimeError):
    pass


def _required(value: str | None, variable: str) -> str:
    if not value:
        raise NotConfigured(
            f"{variable} is not set and no local stack is running here "
            "(start one with `greenai up` or set the variable)"
        )
    return value


# stack.json entry -> the credentials in secrets.json that may hold its user's password
_URLS = {
    "database_url": ("postgres_app", "postgres_owner"),
    "database_owner_url": ("postgres_owner",),
    "redis_url": ("redis",),
}


def load_settings(**overrides: Any) -> Settings:
    """Environment first, then the running local stack's ``stack.json`` with the passwords
    from its ``secrets.json``."""
    settings = Settings(**overrides)
    stack = settings.stack_file
    if not stack.exists():
        return settings
    chosen = json.loads(stack.read_text())
    secrets = load_secrets(settings.greenai_home)
    for name, credentials in _URLS.items():
        if getattr(settings, name) is None and chosen.get(name):
            url = chosen[name]
            setattr(settings, name, secrets.fill(url, *credentials) if secrets else url)
    _stack_kafka(settings, chosen, secrets)
    if "bff_port" in chosen and "GREENAI_BFF_PORT" not in os.environ:
        settings.bff_port = chosen["bff_port"]
    return settings


def _stack_kafka(settings: Settings, chosen: dict[str, Any], secrets: StackSecrets | None) -> None:
    """The stack's Kafka, and how to authenticate to it unless the environment says how.
    The stack's credentials apply only to the stack's own cluster."""
    bootstrap = chosen.get("kafka_bootstrap_servers")
    if settings.kafka_bootstrap_servers is None and bootstrap:
        settings.kafka_bootstrap_servers = bootstrap
    security = chosen.get("kafka_security")
    if (
        settings.kafka_security_protocol is not None
        or settings.kafka_bootstrap_servers != bootstrap
        or not isinstance(security, dict)
    ):
        return
    settings.kafka_security_protocol = security.get("protocol")
    settings.kafka_sasl_mechanism = settings.kafka_sasl_mechanism or security.get("mechanism")
    settings.kafka_sasl_username = settings.kafka_sasl_username or security.get("username")
    if settings.kafka_sasl_password is None and settings.kafka_sasl_username and secrets:
        settings.kafka_sasl_password = secrets.password_of(settings.kafka_sasl_username, "kafka")
