"""The diff's wake-up index alone (``streams.diff.wakeups``): memory per key it holds, and the
CPU of setting and popping a wake-up, at the size of a large table (1,000,000 keys).

Three shapes of the same keys (``["trades",["T-00000001"]]``, 12 partitions):

- ``batched``: the keys arrive in messages of 100 (one partition each, its append time):
  what ingest at speed gives, every key of a message due at the same moment;
- ``one_per_message``: every key due at its own moment (a trickle of single records);
- ``set_twice``: ``batched``, then every key set again to a later moment (a key that settled
  and now waits for its state retention: its first wake-up stays behind, stale).

Memory is what the index keeps, key bytes included (the index is what holds them in the
worker): Python's allocations (tracemalloc), and the growth of a fresh process's resident
set (allocator rounding and fragmentation included). Each measure runs in a process of its
own. ``python -m bench.wakeups [--keys N]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from streams.diff.wakeups import Wakeup, WakeupIndex
from streams.keys import recon_key_bytes

PARTITIONS = 12
PER_MESSAGE = 100
SHAPES = ("batched", "one_per_message", "set_twice")
T0 = datetime(2026, 12, 1, tzinfo=UTC)
WINDOW = timedelta(hours=1)
RETENTION = timedelta(days=7)


def _fill(index: WakeupIndex, keys: int, shape: str) -> None:
    per_message = 1 if shape == "one_per_message" else PER_MESSAGE
    for n in range(keys):
        message = n // per_message
        appended = T0 + timedelta(milliseconds=message)
        key = recon_key_bytes("trades", {"trade_id": f"T-{n:08d}"})
        index.set(Wakeup(key, message % PARTITIONS, appended + WINDOW, True))
    if shape == "set_twice":
        for n in range(keys):
            message = n // per_message
            settled = T0 + timedelta(seconds=10, milliseconds=message)
            key = recon_key_bytes("trades", {"trade_id": f"T-{n:08d}"})
            index.set(Wakeup(key, message % PARTITIONS, settled + RETENTION, False))


def _resident() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def traced_bytes_per_key(keys: int, shape: str) -> float:
    """Python's allocations the filled index keeps, per key."""
    gc.collect()
    tracemalloc.start()
    index = WakeupIndex()
    _fill(index, keys, shape)
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(index) == keys
    return kept / keys


def resident_bytes_per_key(keys: int, shape: str) -> float:
    """The growth of this process's resident set while the index fills, per key."""
    gc.collect()
    before = _resident()
    index = WakeupIndex()
    _fill(index, keys, shape)
    gc.collect()
    assert len(index) == keys
    return (_resident() - before) / keys


def cpu_us_per_key(keys: int, shape: str) -> dict[str, float]:
    """CPU µs per key to fill the index (key bytes and datetimes made included) and to pop
    every key due, a partition at a time."""
    index = WakeupIndex()
    started = time.process_time()
    _fill(index, keys, shape)
    filled = time.process_time()
    popped = sum(len(index.pop_due(p, T0 + 2 * RETENTION)) for p in range(PARTITIONS))
    done = time.process_time()
    assert popped == keys and len(index) == 0
    return {
        "set_us": round((filled - started) * 1e6 / keys, 2),
        "pop_us": round((done - filled) * 1e6 / keys, 2),
    }


def _alone(measure: Callable[[int, str], Any], keys: int, shape: str) -> Any:
    """``measure`` in a fresh process (nothing freed before it to reuse)."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(measure, keys, shape).result()


def resident_bytes(keys: int, shape: str = "batched") -> float:
    """Resident bytes per key of an index of ``keys`` keys, measured in a fresh process."""
    return float(_alone(resident_bytes_per_key, keys, shape))


def run(keys: int = 1_000_000) -> dict[str, Any]:
    figures: dict[str, Any] = {"keys": keys}
    for shape in SHAPES:
        figures[shape] = {
            "bytes_per_key": round(_alone(traced_bytes_per_key, keys, shape)),
            "resident_bytes_per_key": round(resident_bytes(keys, shape)),
            **_alone(cpu_us_per_key, keys, shape),
        }
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.wakeups")
    parser.add_argument("--keys", type=int, default=1_000_000)
    print(json.dumps(run(parser.parse_args().keys), indent=2))
