"""release_freed_memory hands memory freed in the middle of the heap back to the system."""

from __future__ import annotations

import pytest

from insights.members.memory import _malloc_trim, release_freed_memory


def _anonymous_mib() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("RssAnon:"))
    return int(line.split()[1]) / 1024


def test_freed_heap_memory_goes_back_to_the_system() -> None:
    if _malloc_trim() is None:
        pytest.skip("no malloc_trim in this C library")
    # 200 MiB of 2 KiB blocks (malloc, not Python's small-object arenas), the last one kept:
    # glibc cannot shrink its heap past a live block, so freeing the rest keeps it resident.
    blocks = [bytes(2048) for _ in range(100_000)]
    last = blocks[-1]
    del blocks
    held = _anonymous_mib()
    release_freed_memory()
    assert held - _anonymous_mib() > 100
    assert len(last) == 2048
