"""Redis from the OS packages, append-only data in ``home/redis``, one ACL user.

The ACL file (``home/redis/users.acl``, mode 0600, written on every start) turns the
``default`` user off and lets in only the stack's user, whose password it holds as a
SHA-256 hash; ``--aclfile`` names it, so no password is ever on the command line.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import redis

from greenai.localstack.base import ManagedServer
from greenai.localstack.private import write_private
from streams.stack_secrets import Credential, StackSecrets
from streams.urls import with_password

__all__ = ["RedisServer", "acl_file", "redis_ping"]


def acl_file(user: Credential) -> str:
    """An ACL file with the default user off and ``user`` allowed everything.

    >>> print(acl_file(Credential("greenai", "s3cret")))  # doctest: +ELLIPSIS
    user default off
    user greenai on #1ec1c26b...f99fcba0 ~* &* +@all
    <BLANKLINE>
    """
    digest = hashlib.sha256(user.password.encode()).hexdigest()
    return f"user default off\nuser {user.user} on #{digest} ~* &* +@all\n"


def redis_ping(host: str, port: int, user: Credential, timeout: float = 2.0) -> bool:
    """True when the server at ``host:port`` lets ``user`` in and answers PING."""
    client = redis.Redis(
        host=host,
        port=port,
        username=user.user,
        password=user.password,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


class RedisServer(ManagedServer):
    """``redis-server`` on 127.0.0.1, not daemonized, AOF persistence, ACL users."""

    name = "redis"
    ready_timeout = 60.0

    def __init__(self, home: Path, secrets: StackSecrets) -> None:
        super().__init__(home, secrets)
        self.binary = ""
        self.user_credential = secrets["redis"]
        self.acl_path = self.root / "users.acl"

    @property
    def url(self) -> str:
        bare = f"redis://{self.user_credential.user}@127.0.0.1:{self.ports['port']}/0"
        return with_password(bare, self.user_credential.password)

    def prepare(self, cancel: threading.Event) -> None:
        found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")
        if found is None:
            raise RuntimeError("redis-server not found; run infra/install-system-packages.sh")
        self.binary = found
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(self.acl_path, acl_file(self.user_credential))

    def argv(self) -> list[str]:
        return [
            self.binary,
            "--port",
            str(self.ports["port"]),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.root),
            "--aclfile",
            str(self.acl_path),
            "--appendonly",
            "yes",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
        ]

    def probe(self) -> bool:
        return redis_ping("127.0.0.1", self.ports["port"], self.user_credential)
