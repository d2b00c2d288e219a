"""The C heap's mmap threshold is fixed where the C library is glibc."""

from __future__ import annotations

import platform

from streams.malloc import fix_mmap_threshold


def test_the_threshold_is_fixed_on_glibc_and_nothing_fails_elsewhere() -> None:
    fixed = fix_mmap_threshold()
    assert fixed is (platform.libc_ver()[0] == "glibc")
    assert fix_mmap_threshold() is fixed  # again: the same
