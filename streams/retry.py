"""Waiting out a dependency that went away: capped exponential backoff and one log line.

A worker that loses PostgreSQL, Redis or Kafka keeps its process and its place: it retries
with backoff, says once that the dependency is unreachable and once that it is back (with
how long it was gone), and carries on where it stopped.

>>> delays = Backoff(first=0.5, cap=4.0, jitter=0.0)
>>> [delays.next() for _ in range(5)]
[0.5, 1.0, 2.0, 4.0, 4.0]
>>> delays.reset(); delays.next()
0.5
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar

from streams.metrics import DEPENDENCY_UP

T = TypeVar("T")


class Backoff:
    """Delays that double from ``first`` up to ``cap``, with +/- ``jitter`` (a fraction)."""

    def __init__(self, first: float = 0.5, cap: float = 10.0, jitter: float = 0.2) -> None:
        self.first = first
        self.cap = cap
        self.jitter = jitter
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        if self.jitter:
            delay *= 1 + random.uniform(-self.jitter, self.jitter)
        return delay

    def reset(self) -> None:
        self._next = self.first


class Outage:
    """Logs when ``what`` becomes unreachable and when it is back; silent in between. The
    process's health and its ``greenai_dependency_up`` metric follow every outage it
    tracks (:mod:`streams.metrics`).

    ``settle``: how long no failure may be reported before the outage counts as over (for
    clients whose errors arrive late or in floods, Kafka's; 0 for a call that succeeded).
    """

    _tracked: ClassVar[weakref.WeakSet[Outage]] = weakref.WeakSet()

    def __init__(self, what: str, log: logging.Logger, settle: float = 0.0) -> None:
        self.what = what
        self.log = log
        self.settle = settle
        self.since: float | None = None
        self._last_failure = 0.0
        self._up = DEPENDENCY_UP.labels(what)
        self._up.set(1)
        Outage._tracked.add(self)

    @classmethod
    def tracked(cls) -> list[Outage]:
        """Every outage this process tracks now."""
        return list(cls._tracked)

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        self._last_failure = time.monotonic()
        if self.since is None:
            self.since = self._last_failure
            self._up.set(0)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.log.warning("%s unreachable (%s); retrying with backoff", self.what, reason)

    def recovered(self) -> None:
        if self.since is None:
            return
        now = time.monotonic()
        if now - self._last_failure >= self.settle:
            self.log.warning("%s reachable again after %.1fs", self.what, now - self.since)
            self.since = None
            self._up.set(1)


async def until_done(
    attempt: Callable[[], Awaitable[T]],
    outage: Outage,
    retry_on: tuple[type[BaseException], ...],
    backoff: Backoff | None = None,
) -> T:
    """Await ``attempt()`` until it succeeds, sleeping with backoff after each failure of a
    type in ``retry_on`` (anything else propagates)."""
    delays = backoff or Backoff()
    while True:
        try:
            result = await attempt()
        except retry_on as exc:
            outage.failed(exc)
            await asyncio.sleep(delays.next())
            continue
        outage.recovered()
        return result


def until_done_sync(
    attempt: Callable[[], T],
    outage: Outage,
    retry_on: tuple[type[BaseException], ...],
    backoff: Backoff | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> T:
    """:func:`until_done` for threads; raises :class:`Stopped` once ``stop()`` is true."""
    delays = backoff or Backoff()
    while True:
        try:
            result = attempt()
        except retry_on as exc:
            outage.failed(exc)
            deadline = time.monotonic() + delays.next()
            while time.monotonic() < deadline:
                if stop():
                    raise Stopped(outage.what) from exc
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
            continue
        outage.recovered()
        return result


class Stopped(Exception):
    """The caller asked to stop while a dependency was still unreachable."""
