"""The recons the BFF works with (their operations rules and sources), from PostgreSQL,
reloaded at most every ``ttl`` seconds. Threads (the sink) read it directly; the event loop
reads it through :meth:`ReconCache.all`, which loads in a thread."""

from __future__ import annotations

import asyncio
import threading
import time

from streams.database import load_recons
from streams.domain.workflow_rules import DEFAULT_WORKFLOW, WorkflowRules
from streams.recon import Recon

MISS_AGAIN = 0.2  # seconds: an unknown recon is looked up again at most this often


class ReconCache:
    def __init__(self, database_url: str, ttl: float = 2.0) -> None:
        self.database_url = database_url
        self.ttl = ttl
        self._recons: dict[str, Recon] = {}
        self._at = float("-inf")
        self._lock = threading.Lock()

    @property
    def stale(self) -> bool:
        return time.monotonic() - self._at > self.ttl

    def load(self, *, fresh: bool = False) -> dict[str, Recon]:
        """The recons, reloaded if stale (or ``fresh``: now) (blocking: threads only)."""
        with self._lock:
            if self.stale or fresh:
                loaded = load_recons(self.database_url)
                self._recons = {name: recon for name, (_, recon) in loaded.items()}
                self._at = time.monotonic()
            return self._recons

    def rules_of(self, name: str) -> WorkflowRules:
        """A recon's operations rules (blocking; the defaults for a recon that is gone)."""
        recon = self.load().get(name)
        return recon.rules if recon else DEFAULT_WORKFLOW

    async def all(self) -> dict[str, Recon]:
        return await asyncio.to_thread(self.load) if self.stale else self._recons

    async def get(self, name: str) -> Recon | None:
        """The recon; one not known yet is looked up again at once (applied a moment ago)."""
        found = (await self.all()).get(name)
        if found is None and time.monotonic() - self._at > MISS_AGAIN:
            found = (await asyncio.to_thread(self.load, fresh=True)).get(name)
        return found

    async def rules(self, name: str) -> WorkflowRules:
        recon = await self.get(name)
        return recon.rules if recon else DEFAULT_WORKFLOW
