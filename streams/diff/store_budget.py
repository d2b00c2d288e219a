"""The memory the diff table's RocksDB stores may take: Faust's store options (pure).

Faust opens one RocksDB store per partition of a table and gives each a 64 MiB write buffer
(up to three of them) and a 2 GiB block cache: sizes for one big store. Across the 12
partitions of a diff worker, the memtables could grow to 768 MiB before the first flush (at
a million open keys they held every value, 315 bytes a key), and the block caches to 24 GiB
as keys are read back. Here the partitions share a budget instead: each store gets its
part, so a worker stays within it however many partitions it owns; the rest of the table is
in RocksDB's files (and the page cache), for the CPU of more flushes and compactions
(figures in docs/benchmarks.md).

>>> store_options(12)
{'write_buffer_size': 5592405, 'block_cache_size': 2796202}
>>> store_options(1000)["write_buffer_size"] == SMALLEST
True
"""

from __future__ import annotations

MIB = 1 << 20
WRITE_BUFFERS = 64 * MIB  # the memtables of all the partitions' stores together
BLOCK_CACHE = 32 * MIB  # their block caches together
SMALLEST = 1 * MIB  # per store, however many partitions there are


def store_options(partitions: int) -> dict[str, int]:
    """Options for each of a table's ``partitions`` stores (``faust.Table(options=...)``)."""
    return {
        "write_buffer_size": max(SMALLEST, WRITE_BUFFERS // partitions),
        "block_cache_size": max(SMALLEST, BLOCK_CACHE // partitions),
    }
