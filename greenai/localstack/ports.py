"""Free loopback ports, remembered under GREENAI_HOME so re-runs keep their addresses."""

from __future__ import annotations

import contextlib
import json
import random
import socket
from pathlib import Path

from greenai.localstack.private import DIR_MODE, write_private

__all__ = ["PortBook", "free_port", "port_is_free"]

HOST = "127.0.0.1"
# Below Linux's ephemeral range (32768-60999), so outgoing connections do not take them.
_LOW, _HIGH = 20000, 32767


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when a server could listen on ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(exclude: set[int] | frozenset[int] = frozenset(), host: str = HOST) -> int:
    """A currently free port on ``host``, not in ``exclude``."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(_LOW, _HIGH)
        if port not in exclude and port_is_free(port, host):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class PortBook:
    """Named ports kept in a JSON file: the same port again when it is still free."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._saved: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError, TypeError):
            self._saved = {str(k): int(v) for k, v in json.loads(path.read_text()).items()}
        self._given: dict[str, int] = {}

    def port(self, name: str) -> int:
        """The port for ``name``: the remembered one if free, else a new free one."""
        if name in self._given:
            return self._given[name]
        taken = set(self._given.values())
        saved = self._saved.get(name)
        if saved is not None and saved not in taken and port_is_free(saved):
            port = saved
        else:
            port = free_port(exclude=taken)
        self._given[name] = port
        return port

    def save(self) -> None:
        """Write the remembered ports (those handed out win)."""
        self.path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        write_private(
            self.path, json.dumps({**self._saved, **self._given}, indent=2, sort_keys=True)
        )
