"""Python's cyclic garbage collector in a serving process. What a process holds from its
start (modules, the app, its routes, models and schemas: some 200,000 objects) never becomes
garbage, yet every full collection walked all of it: a pause of about 80 ms every few
requests under load, which made a report's p95 two to three times its median. And a pause
of it while a report builds its many small objects."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def freeze_startup_objects() -> None:
    """Collects what start-up left behind, then takes every surviving object out of the
    collector's walk (gc.freeze): they are still freed by reference counting, only no longer
    scanned for cycles. Call it once the app has started (and warmed up)."""
    gc.collect()
    gc.freeze()


def unfreeze() -> None:
    """Gives the frozen objects back to the collector, at shutdown: a process that runs
    several apps one after another (the tests) would otherwise never collect the cycles of
    the ones it stopped."""
    gc.unfreeze()


_pause = threading.Lock()  # held by the section that paused the collector


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside: for a report that builds tens of thousands of small
    objects which all stay referenced until the answer is written (sync-duration's 30,000
    points), the collections their allocation sets off find no garbage and cost about a
    tenth of the answer. Reference counting still frees everything. Only the first of
    overlapping sections pauses, and the collector resumes when that one ends (others go on
    with it running): a pause never outlasts one report, however many run at once. A
    collector switched off is left off."""
    owner = _pause.acquire(blocking=False)
    if owner and not gc.isenabled():
        _pause.release()
        owner = False
    if owner:
        gc.disable()
    try:
        yield
    finally:
        if owner:
            gc.enable()
            _pause.release()
