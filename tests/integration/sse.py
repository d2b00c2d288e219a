"""A Server-Sent Events client for tests that behaves as a browser's EventSource: it keeps
the last event id and reconnects with ``Last-Event-ID`` when the stream drops."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx


class SseRecorder(threading.Thread):
    def __init__(self, url: str, token: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.token = token
        self.events: list[tuple[str, str, Any]] = []  # (event, id, data)
        self.last_id: str | None = None
        self.connects = 0
        self.ready = threading.Event()
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            try:
                with httpx.stream("GET", self.url, headers=headers, timeout=None) as response:
                    self.connects += 1
                    self._read(response)
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

    def _read(self, response: httpx.Response) -> None:
        event, event_id, data = "message", None, []
        for line in response.iter_lines():
            if self._stop.is_set():
                return
            if not line:
                if data:
                    payload = json.loads("\n".join(data))
                    self.events.append((event, event_id or "", payload))
                    if event == "ready":
                        self.ready.set()
                if event_id is not None:
                    self.last_id = event_id
                event, event_id, data = "message", None, []
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())

    def stop(self) -> None:
        self._stop.set()

    def breaks(self) -> set[tuple[str, int]]:
        """(break_id, version) of every break event received."""
        return {(d["break_id"], d["version"]) for e, _, d in self.events if e == "break"}
