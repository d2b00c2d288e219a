"""The local stack's credentials: ``$GREENAI_HOME/secrets.json`` (mode 0600), read here.

``greenai up`` (``greenai.localstack.secrets``) generates them once per home; every other
process of the same user finds its passwords here, while ``stack.json`` and ``servers.json``
hold only the URLs without them. The file is a JSON object of credentials by name::

    {"postgres_owner": {"user": "greenai", "password": "..."},
     "postgres_app": {"user": "greenai_app", "password": "..."},
     "redis": {"user": "greenai", "password": "..."},
     "kafka": {"user": "greenai", "password": "..."},
     "kafka_controller": {"user": "controller", "password": "..."}}

Other entries are kept as they are (the file may hold more than the servers' credentials).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streams.urls import url_user, with_password

__all__ = [
    "CREDENTIALS",
    "SECRETS_FILE",
    "Credential",
    "StackSecrets",
    "load_secrets",
]

SECRETS_FILE = "secrets.json"
# name -> user of each credential the servers of the local stack need
CREDENTIALS = {
    "postgres_owner": "greenai",  # owns the database and the schema: migrations only
    "postgres_app": "greenai_app",  # what the workers, the BFF and the CLI use
    "redis": "greenai",  # the Redis ACL user (the `default` user is off)
    "kafka": "greenai",  # the Kafka SCRAM-SHA-256 user of the clients
    "kafka_controller": "controller",  # KRaft's own controller listener (SASL/PLAIN)
}


@dataclass(frozen=True)
class Credential:
    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class StackSecrets:
    """The credentials of one GREENAI_HOME, by name (see :data:`CREDENTIALS`)."""

    credentials: dict[str, Credential]

    def __getitem__(self, name: str) -> Credential:
        return self.credentials[name]

    def get(self, name: str) -> Credential | None:
        return self.credentials.get(name)

    def password_of(self, user: str, *names: str) -> str | None:
        """The password of ``user`` among the credentials ``names`` (None: not known)."""
        for name in names:
            found = self.credentials.get(name)
            if found is not None and found.user == user:
                return found.password
        return None

    def fill(self, url: str, *names: str) -> str:
        """``url`` with the password of the user it names, when one of ``names`` knows it
        (a URL with a password, or with a user these secrets do not know, is unchanged)."""
        user = url_user(url)
        password = self.password_of(user, *names) if user else None
        if password is None or urlsplit(url).password is not None:
            return url
        return with_password(url, password)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackSecrets:
        found = {}
        for name, entry in data.items():
            if isinstance(entry, dict) and {"user", "password"} <= entry.keys():
                found[name] = Credential(str(entry["user"]), str(entry["password"]))
        return cls(found)


def load_secrets(home: Path) -> StackSecrets | None:
    """The secrets of the stack in ``home``; None when there are none (or they are unreadable)."""
    try:
        data = json.loads((Path(home) / SECRETS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return StackSecrets.from_json(data) if isinstance(data, dict) else None
