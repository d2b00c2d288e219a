"""Timing of a pure benchmark pass: the fastest of several, by wall clock and by CPU time."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_pass(fn: Callable[[], int], repeat: int) -> tuple[float, float]:
    """Seconds per item of the fastest of ``repeat`` passes of ``fn`` (which returns how many
    items it did): (wall clock, CPU time)."""
    wall, cpu = float("inf"), float("inf")
    n = 1
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        n = fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall / n, cpu / n
