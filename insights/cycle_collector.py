"""Python's cyclic garbage collector in a serving process. What a process holds from its
start (modules, the app, its routes, models and schemas: some 200,000 objects) never becomes
garbage, yet every full collection walked all of it: a pause of about 80 ms every few
requests under load, which made a report's p95 two to three times its median."""

from __future__ import annotations

import gc


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
