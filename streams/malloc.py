"""Keep large freed blocks out of the C heap (glibc's malloc, where the workers run).

glibc gives an allocation of 128 KiB or more a mapping of its own, returned to the system
when it is freed, but it raises that threshold to the size of every such block freed (up to
32 MiB). After that, large short-lived blocks (Kafka fetch buffers, RocksDB's memtable
arenas and SST builders) come from the heap, and any small block allocated after them pins
the heap's pages once they are freed: at a million open keys the diff worker held 130 MB
freed but resident, about 130 bytes a key (docs/benchmarks.md). Fixing the threshold at
glibc's default keeps large blocks in mappings of their own.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024  # glibc's default, fixed (setting it stops its adjustment)


def fix_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold for this process; False where malloc has no such setting
    (macOS, musl: nothing to do there)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process runs on
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
