"""Syncs' completed runs of a window as aligned integer arrays (start, duration, rows),
read in one grouped scan: durations need every value (percentiles), dates need every start,
and one row per sync is far cheaper to move than one per run."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.models import SyncRun
from insights.reports.common import day_date, utc_offsets
from insights.reports.sql import duration_seconds, epoch_seconds, int_list, parse_int_lists

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
    *,
    positive_duration: bool = False,
    before: datetime | None = None,
) -> dict[uuid.UUID, RunSeries]:
    """Per sync, its completed runs started at or after `start` (and before `before`, if
    given; with a duration above 0 only, if asked)."""
    duration = duration_seconds(SyncRun.started_at, SyncRun.completed_at)
    rows = SyncRun.rows_created + SyncRun.rows_updated + SyncRun.rows_deleted
    query = select(
        SyncRun.sync_id, int_list(epoch_seconds(SyncRun.started_at)), int_list(duration)
    ).add_columns(int_list(rows))
    query = query.where(
        SyncRun.workspace_id == workspace_id,
        SyncRun.status == "completed",
        SyncRun.started_at >= start,
    )
    if before is not None:
        query = query.where(SyncRun.started_at < before)
    if positive_duration:
        query = query.where(SyncRun.completed_at > SyncRun.started_at)
    if sync_ids is not None:
        query = query.where(SyncRun.sync_id.in_(list(sync_ids)))
    found = session.execute(query.group_by(SyncRun.sync_id)).all()
    columns = [parse_int_lists([row[i] for row in found]) for i in (1, 2, 3)]
    return {
        row[0]: RunSeries(columns[0][n], columns[1][n], columns[2][n])
        for n, row in enumerate(found)
    }


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
        piece = np.searchsorted(self.begins, epochs, side="right") - 1
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
        if not len(self.numbers):
            return []
        if len(values) and int(values.max()) > INT64_MAX // len(values):
            return [total(part) for part in np.split(values[self._order], self._firsts[1:])]
        return [int(x) for x in np.add.reduceat(values[self._order], self._firsts)]

    def maxima(self, values: Ints) -> list[int]:
        if not len(self.numbers):
            return []
        return [int(x) for x in np.maximum.reduceat(values[self._order], self._firsts)]

    def dates(self) -> list[date]:
        return [day_date(int(number)) for number in self.numbers]


def total(values: Ints) -> int:
    """The exact sum (Python integers once int64 could overflow)."""
    if not len(values):
        return 0
    if int(values.max()) <= INT64_MAX // len(values):
        return int(values.sum())
    return sum(values.tolist())


__all__ = ["Days", "LocalDays", "RunSeries", "completed_runs", "total"]
