"""Giving freed heap memory back to the operating system after a bulk job."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc: nothing to call
        return None


def release_freed_memory() -> None:
    """glibc keeps memory freed in the middle of its heap for reuse, so a process that once
    held a million-key run keeps its size; malloc_trim hands the free pages back (measured
    after a 10M-key upload in docs/benchmarks.md). A no-op where there is no malloc_trim."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
