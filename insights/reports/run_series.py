"""Syncs' completed runs of a window as aligned integer arrays (start, duration, rows),
read in one grouped scan, one row per sync (far cheaper to move than one per run): the
first local day of a window (reports.local_days), or every run of it when the local-day
rollups cannot serve it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import and_, select, true
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.models import Sync, SyncRun
from insights.reports.common import utc_offsets
from insights.reports.sql import (
    driver_id,
    duration_seconds,
    epoch_seconds,
    int_list,
    parse_int_lists,
)

Ints = NDArray[np.int64]
INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class RunSeries:
    """One sync's completed runs, position by position (in no particular order)."""

    started: Ints  # epoch seconds
    durations: Ints  # whole seconds
    rows: Ints  # rows synced: created + updated + deleted


def completed_runs(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    start: datetime,
    before: datetime | None = None,
) -> dict[Any, RunSeries]:
    """Per sync (by sql.driver_id), its completed runs started at or after `start` (and
    before `before`, if given).

    Driven from the syncs: each one's runs are a range of its index entries. SQLite picks
    that plan for a join; PostgreSQL gets LATERAL (as run_totals does). Grouped over the
    runs alone, SQLite read every run of the workspace to keep a few hours of them."""
    duration = duration_seconds(SyncRun.started_at, SyncRun.completed_at)
    rows = SyncRun.rows_created + SyncRun.rows_updated + SyncRun.rows_deleted
    columns = [int_list(epoch_seconds(SyncRun.started_at)), int_list(duration), int_list(rows)]
    scanned = [
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.started_at >= start,
        SyncRun.status == "completed",
    ]
    if before is not None:
        scanned.append(SyncRun.started_at < before)
    key = driver_id(Sync.id)
    if is_sqlite(session):
        query = select(key, *columns).join(SyncRun, and_(*scanned)).group_by(Sync.id)
    else:
        labelled = [column.label(f"c{n}") for n, column in enumerate(columns)]
        per_sync = select(*labelled).where(*scanned).lateral()
        query = select(key, *per_sync.c).join(per_sync, true())
    query = query.where(Sync.workspace_id == workspace_id)
    if sync_ids is not None:
        query = query.where(Sync.id.in_(list(sync_ids)))
    found = [row for row in session.execute(query).all() if row[1] is not None]
    lists = [parse_int_lists([row[i] for row in found]) for i in (1, 2, 3)]
    return {row[0]: RunSeries(lists[0][n], lists[1][n], lists[2][n]) for n, row in enumerate(found)}


@dataclass(frozen=True)
class LocalDays:
    """The local calendar day (days since 1970-01-01) of epoch seconds, in one zone over
    one window: its UTC offsets are worked out once, then each lookup is vectorised."""

    begins: Ints
    offsets: Ints

    @classmethod
    def of(cls, zone: ZoneInfo, start: datetime, end: datetime) -> LocalDays:
        pieces = utc_offsets(zone, start, end)
        return cls(
            np.array([begin for begin, _ in pieces], dtype=np.int64),
            np.array([offset for _, offset in pieces], dtype=np.int64),
        )

    def __call__(self, epochs: Ints) -> Ints:
        # The first piece stands for every moment before the second (utc_offsets' first
        # begins at 0, before which a search would find none).
        piece = np.maximum(np.searchsorted(self.begins, epochs, side="right") - 1, 0)
        return (epochs + self.offsets[piece]) // 86400


@dataclass(frozen=True)
class Days:
    """Values grouped by local day: the days present (ascending), and per day the count,
    and the sum and maximum of any array given positionally with the days."""

    numbers: Ints
    counts: Ints
    _order: Ints
    _firsts: Ints

    @classmethod
    def group(cls, days: Ints) -> Days:
        order = np.argsort(days, kind="stable")
        numbers, firsts, counts = np.unique(days[order], return_index=True, return_counts=True)
        return cls(numbers, counts, order, firsts)

    def sums(self, values: Ints) -> list[int]:
        return segment_sums(values[self._order], np.append(self._firsts, len(values)))

    def maxima(self, values: Ints) -> list[int]:
        if not len(self.numbers):
            return []
        return [int(x) for x in np.maximum.reduceat(values[self._order], self._firsts)]


def segment_sums(values: Ints, bounds: Ints) -> list[int]:
    """The exact sum of each part values[bounds[n]:bounds[n + 1]] (every part has a row):
    in int64 while no sum can overflow it, else in Python integers."""
    if not len(values):
        return []
    if int(np.abs(values).max()) <= INT64_MAX // len(values):
        sums: list[int] = np.add.reduceat(values, bounds[:-1]).tolist()
        return sums
    flat = values.tolist()
    return [sum(flat[begin:end]) for begin, end in pairwise(bounds.tolist())]


__all__ = ["Days", "LocalDays", "RunSeries", "completed_runs", "segment_sums"]
