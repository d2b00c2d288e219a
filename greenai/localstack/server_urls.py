"""Where the servers are and how to log in to each: what ``LocalServers`` hands out.

The URLs hold passwords; :meth:`ServerUrls.public` (what ``servers.json`` and ``stack.json``
hold) and the repr do not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.kafka_security import KafkaSecurity, security_env
from streams.stack_secrets import StackSecrets, load_secrets
from streams.urls import url_user, without_password

__all__ = ["OWNER_URL_VARIABLE", "ServerUrls"]

OWNER_URL_VARIABLE = "GREENAI_DATABASE_OWNER_URL"


@dataclass(frozen=True)
class ServerUrls:
    """Where the three servers are, and how to log in to each (the URLs hold passwords;
    the repr and :meth:`public` do not)."""

    kafka_bootstrap_servers: str  # "127.0.0.1:PORT"
    database_url: str  # the application role: "postgresql://greenai_app:PW@127.0.0.1:PORT/greenai"
    redis_url: str  # "redis://greenai:PW@127.0.0.1:PORT/0"
    database_owner_url: str | None = None  # the owner, for migrations (None: database_url)
    kafka_security: KafkaSecurity | None = None  # None: PLAINTEXT

    def database_owner(self) -> str:
        """The URL to run migrations with."""
        return self.database_owner_url or self.database_url

    @property
    def database_app_role(self) -> str | None:
        """The role that migrations grant the application's privileges to (None when one
        role does everything)."""
        if self.database_owner_url is None:
            return None
        app = url_user(self.database_url)
        return app if app != url_user(self.database_owner_url) else None

    def as_env(self) -> dict[str, str]:
        """The environment variables that point a process at these servers."""
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            **security_env(self.kafka_security),
        }
        if self.database_owner_url is not None:
            env[OWNER_URL_VARIABLE] = self.database_owner_url
        return env

    def public(self) -> dict[str, Any]:
        """Everything but the passwords: what ``servers.json`` and ``stack.json`` hold."""
        owner = self.database_owner_url
        return {
            "kafka_bootstrap_servers": self.kafka_bootstrap_servers,
            "database_url": without_password(self.database_url),
            "database_owner_url": without_password(owner) if owner else None,
            "redis_url": without_password(self.redis_url),
            "kafka_security": self.kafka_security.public() if self.kafka_security else None,
        }

    def __repr__(self) -> str:
        return f"ServerUrls({self.public()!r})"

    @classmethod
    def from_public(cls, data: Mapping[str, Any], secrets: StackSecrets | None) -> ServerUrls:
        """The URLs of :meth:`public` with the passwords that ``secrets`` knows."""

        def fill(url: str, *names: str) -> str:
            return secrets.fill(url, *names) if secrets else url

        owner = data.get("database_owner_url")
        security = data.get("kafka_security")
        kafka = None
        if security:
            known = secrets.password_of(security["username"], "kafka") if secrets else None
            kafka = KafkaSecurity(
                security["protocol"], security["mechanism"], security["username"], known or ""
            )
        return cls(
            kafka_bootstrap_servers=data["kafka_bootstrap_servers"],
            database_url=fill(data["database_url"], "postgres_app", "postgres_owner"),
            redis_url=fill(data["redis_url"], "redis"),
            database_owner_url=fill(owner, "postgres_owner") if owner else None,
            kafka_security=kafka,
        )

    @classmethod
    def load(cls, path: Path) -> ServerUrls:
        """Read the URLs written by :class:`LocalServers` (``home/servers.json``), with the
        passwords from ``home/secrets.json``."""
        path = Path(path)
        return cls.from_public(json.loads(path.read_text()), load_secrets(path.parent))
