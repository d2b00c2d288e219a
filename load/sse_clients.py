"""``python -m load.sse_clients``: many live ``/api/stream`` clients in one asyncio process.

Each client holds ``GET /api/stream`` open with an analyst's API token, as the
ReconWorkstation's EventSource does (reconnecting with ``Last-Event-ID`` if the stream drops),
and notes when every ``break`` event arrives. The clients share one process and one event
loop (uvloop when installed, aiohttp's C HTTP parser): a client costs little between
events, and the figures are of the BFF, not of 500 Python threads. Each event's JSON is
parsed once per process (by the first client that receives its ``seq``); the others only
note the time.

When all clients have had their stream's ``ready`` event it prints ``ready N``; on SIGTERM
or SIGINT it stops and writes what it saw to ``--out`` (JSON): per ``seq`` the break's id,
version, revision and action (and command id) and every client's receive time (Unix
seconds), plus connects, drops, errors, ``reset`` events and its own CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp


@dataclass
class Seen:
    """What all clients of this process saw."""

    clients: int
    connected: int = 0
    connected_max: int = 0
    connected_at_stop: int = 0
    ready: int = 0
    connects: int = 0
    drops: int = 0  # streams the server ended or the network cut
    resets: int = 0  # ``reset`` events: the hub found the client too slow
    events: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    meta: dict[int, list[Any]] = field(default_factory=dict)  # seq -> the change
    received: dict[int, list[float]] = field(default_factory=dict)  # seq -> receive times

    def report(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "clients": self.clients,
            "connected_at_end": self.connected_at_stop,
            "connected_max": self.connected_max,
            "ready": self.ready,
            "connects": self.connects,
            "drops": self.drops,
            "resets": self.resets,
            "events": self.events,
            "errors": dict(self.errors),
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "meta": self.meta,
            "received": self.received,
        }


def change_of(data: bytes) -> list[Any]:
    """The change an event carries: [break_id, version, revision, action, command_id]."""
    brk = json.loads(data)
    activity = brk.get("activity") or {}
    return [
        brk["break_id"],
        brk["version"],
        brk.get("revision") or 0,
        activity.get("action"),
        activity.get("command_id"),
    ]


class Client:
    def __init__(self, seen: Seen, url: str, token: str) -> None:
        self.seen = seen
        self.url = url
        self.token = token
        self.last_id: str | None = None
        self.was_ready = False

    async def run(self, session: aiohttp.ClientSession) -> None:
        while True:
            headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
            connected = False
            try:
                async with session.get(self.url, headers=headers) as response:
                    if response.status != 200:
                        self.seen.errors[f"HTTP {response.status}"] += 1
                    else:
                        connected = True
                        self.seen.connects += 1
                        self.seen.connected += 1
                        self.seen.connected_max = max(self.seen.connected_max, self.seen.connected)
                        await self._read(response)
                        self.seen.drops += 1
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                self.seen.errors[type(exc).__name__] += 1
                if connected:
                    self.seen.drops += 1
            finally:
                if connected:
                    self.seen.connected -= 1
            await asyncio.sleep(0.5)

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        buffer = b""
        sep = b"\r\n\r\n"
        async for chunk in response.content.iter_any():
            now = time.time()
            buffer += chunk
            if sep not in buffer and b"\n\n" in buffer and b"\r\n" not in buffer:
                sep = b"\n\n"
            while sep in buffer:
                block, buffer = buffer.split(sep, 1)
                self._event(block, now)

    def _event(self, block: bytes, now: float) -> None:
        kind, event_id, data = b"message", None, b""
        for line in block.splitlines():
            if line.startswith(b"event:"):
                kind = line[6:].strip()
            elif line.startswith(b"id:"):
                event_id = line[3:].strip()
            elif line.startswith(b"data:"):
                data = line[5:].strip()
        if event_id is not None:
            self.last_id = event_id.decode()
        if kind == b"break" and event_id is not None:
            seq = int(event_id)
            self.seen.events += 1
            times = self.seen.received.get(seq)
            if times is None:
                try:
                    self.seen.meta[seq] = change_of(data)
                except (ValueError, KeyError, TypeError):
                    self.seen.errors["unreadable break event"] += 1
                times = self.seen.received[seq] = []
            times.append(now)
        elif kind == b"reset":
            self.seen.resets += 1
        elif kind == b"ready" and not self.was_ready:
            self.was_ready = True
            self.seen.ready += 1
            if self.seen.ready == self.seen.clients:
                print(f"ready {self.seen.ready}", flush=True)


async def hold(url: str, tokens: list[str], clients: int, per_second: float, out: Path) -> None:
    seen = Seen(clients)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    timeout = aiohttp.ClientTimeout(total=None, connect=30, sock_read=None)
    connector = aiohttp.TCPConnector(limit=0)
    tasks: list[asyncio.Task[None]] = []
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for n in range(clients):
            if stop.is_set():
                break
            client = Client(seen, url, tokens[n % len(tokens)])
            tasks.append(asyncio.create_task(client.run(session)))
            if per_second > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1 / per_second)
        print(f"started {len(tasks)}", flush=True)
        await stop.wait()
        seen.connected_at_stop = seen.connected
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    out.write_text(json.dumps(seen.report()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="the stream, e.g. http://host:port/api/stream")
    parser.add_argument("--tokens", required=True, type=Path, help="JSON [{username, token}]")
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--per-second", type=float, default=50.0, help="connects per second")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    tokens = [a["token"] for a in json.loads(args.tokens.read_text())]
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        runner = asyncio.run
    runner(hold(args.url, tokens, args.clients, args.per_second, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
