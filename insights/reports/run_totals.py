"""Per-sync sums of finished runs over windows, read from the daily rollups (sync_run_days)
plus the runs of one partial day at each edge, so a window costs O(syncs x days), not
O(runs), and stays exact: a window from `start` is the whole days after start's day from
the rollups, plus the runs in [start, the next midnight); or, when start is in the first
half of its day, the whole days from start's day on, less the runs in [that midnight,
start). Either way at most half a day of runs is read."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.models import Sync, SyncRun, SyncRunDay
from insights.reports.sql import driver_id, duration_seconds

FINISHED = ("completed", "failed")
HALF_BITS = 32
LOW_MASK = (1 << HALF_BITS) - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
# PostgreSQL shifts a bigint by an integer (a bigint bind parameter finds no operator).
SHIFT = literal_column(str(HALF_BITS), Integer)
SUMMED = ("completed", "failed", "duration_sum", "rows_high", "rows_low")


class RunTotals(NamedTuple):
    """Finished runs (completed + failed) and the sums over the completed ones. A named
    tuple: a sync-health answer makes several per sync."""

    completed: int = 0
    failed: int = 0
    duration_sum: int = 0  # seconds
    rows_synced: int = 0

    @property
    def finished(self) -> int:
        return self.completed + self.failed

    def plus(self, other: RunTotals) -> RunTotals:
        return RunTotals(
            self.completed + other.completed,
            self.failed + other.failed,
            self.duration_sum + other.duration_sum,
            self.rows_synced + other.rows_synced,
        )

    def minus(self, other: RunTotals) -> RunTotals:
        return RunTotals(
            self.completed - other.completed,
            self.failed - other.failed,
            self.duration_sum - other.duration_sum,
            self.rows_synced - other.rows_synced,
        )


# The keys of what this module returns, matched with `sync_key` in the caller's own query.
sync_key = driver_id(Sync.id)
SyncKey = Any


def day_of(moment: datetime) -> int:
    """The UTC day of `moment` as days since 1970-01-01 (sync_run_days.day)."""
    return (moment - EPOCH) // DAY


def totals_since(
    session: Session,
    workspace_id: uuid.UUID,
    starts: Sequence[datetime],
    sync_ids: list[uuid.UUID] | None = None,
) -> dict[SyncKey, list[RunTotals]]:
    """Per sync: for each of `starts`, the finished runs started at or after it (no upper
    bound, as the contract's windows). Syncs with no such run are absent."""
    edges = {start: _Edge.of(start) for start in set(starts)}
    after = {
        day: _rollup_sums(session, workspace_id, day, sync_ids)
        for day in {edge.after_day for edge in edges.values()}
    }
    runs = {
        start: _run_sums(session, workspace_id, edge.low, edge.high, sync_ids)
        for start, edge in edges.items()
    }
    zero = RunTotals()
    totals = {}
    for sync_id in set().union(*after.values(), *runs.values()):
        sums = []
        for start in starts:
            edge = edges[start]
            whole = after[edge.after_day].get(sync_id, zero)
            part = runs[start].get(sync_id, zero)
            sums.append(whole.minus(part) if edge.subtracted else whole.plus(part))
        totals[sync_id] = sums
    return totals


class _Edge(NamedTuple):
    """How a window from a start is read: the rollups of the days after `after_day`, and
    the runs started in [low, high) added, or `subtracted` from the whole first day."""

    after_day: int
    low: datetime
    high: datetime
    subtracted: bool

    @classmethod
    def of(cls, start: datetime) -> _Edge:
        day = day_of(start)
        midnight = EPOCH + day * DAY
        if start - midnight < DAY / 2:
            return cls(day - 1, midnight, start, True)
        return cls(day, start, midnight + DAY, False)


def failed_after(
    session: Session,
    workspace_id: uuid.UUID,
    moment: datetime,
    sync_ids: list[uuid.UUID] | None = None,
) -> dict[SyncKey, int]:
    """Per sync: failed runs started after `moment` (runs may start up to the allowed clock
    skew ahead of now, so this is at most minutes of runs)."""
    scanned = (
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.started_at > moment,
        SyncRun.status == "failed",
    )
    query = _per_sync(
        session, workspace_id, sync_ids, [func.count().label("failed")], scanned, SyncRun
    )
    return {row[0]: int(row[1]) for row in session.connection().execute(query) if row[1]}


def _rollup_sums(
    session: Session, workspace_id: uuid.UUID, after: int, sync_ids: list[uuid.UUID] | None
) -> dict[SyncKey, RunTotals]:
    """Per sync: the rollups of the days after `after`."""
    columns = [_whole(func.sum(getattr(SyncRunDay, name))) for name in SUMMED]
    scanned = (
        SyncRunDay.workspace_id == Sync.workspace_id,
        SyncRunDay.sync_id == Sync.id,
        SyncRunDay.day > after,
    )
    query = _per_sync(session, workspace_id, sync_ids, columns, scanned, SyncRunDay)
    rows = session.connection().execute(query)
    return {row[0]: _totals(row[1:]) for row in rows if row[1] is not None}


def _run_sums(
    session: Session,
    workspace_id: uuid.UUID,
    low: datetime,
    high: datetime,
    sync_ids: list[uuid.UUID] | None,
) -> dict[SyncKey, RunTotals]:
    """Per sync: the finished runs started in [low, high)."""
    completed = SyncRun.status == "completed"
    counts = (SyncRun.rows_created, SyncRun.rows_updated, SyncRun.rows_deleted)
    duration = duration_seconds(SyncRun.started_at, SyncRun.completed_at)
    rows_high = _added(count.op(">>")(SHIFT) for count in counts)
    rows_low = _added(count.op("&")(LOW_MASK) for count in counts)
    columns = [
        func.count(case((completed, 1))).label("completed"),
        func.count(case((SyncRun.status == "failed", 1))).label("failed"),
        *(
            _whole(func.sum(case((completed, term), else_=0)))
            for term in (duration, rows_high, rows_low)
        ),
    ]
    scanned = (
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.started_at >= low,
        SyncRun.started_at < high,
        SyncRun.status.in_(FINISHED),
    )
    query = _per_sync(session, workspace_id, sync_ids, columns, scanned, SyncRun)
    rows = session.connection().execute(query)
    return {row[0]: _totals(row[1:]) for row in rows if row[1] or row[2]}


def _whole(total: ColumnElement[Any]) -> ColumnElement[Any]:
    """A sum as a bigint: PostgreSQL sums bigints into numeric, which the driver hands over
    as a Decimal per value. These sums are far inside a bigint: counts, seconds, and row
    counts in 32-bit halves."""
    return cast(total, BigInteger)


def _added(terms: Iterable[ColumnElement[Any]]) -> ColumnElement[Any]:
    total: ColumnElement[Any] | None = None
    for term in terms:
        total = term if total is None else total + term
    assert total is not None
    return total


def _per_sync(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: list[uuid.UUID] | None,
    columns: list[Any],
    scanned: tuple[ColumnElement[bool], ...],
    table: Any,
) -> Select[Any]:
    """`columns` aggregated per sync over the rows of `table` matching `scanned`.

    Both forms loop over the syncs and range-scan each one's index entries. SQLite picks
    that plan for a join; PostgreSQL would hash-join a full scan, so it gets LATERAL."""
    if is_sqlite(session):
        query = select(sync_key, *columns).join(table, and_(*scanned)).group_by(Sync.id)
    else:
        per_sync = select(*columns).where(*scanned).lateral()
        query = select(sync_key, *per_sync.c).join(per_sync, true())
    query = query.where(Sync.workspace_id == workspace_id)
    return query if sync_ids is None else query.where(Sync.id.in_(sync_ids))


def _totals(sums: Sequence[Any]) -> RunTotals:
    """The SUMMED columns of a per-sync row as totals; null for no rows."""
    completed, failed, duration_sum, rows_high, rows_low = sums
    return RunTotals(
        completed or 0,
        failed or 0,
        duration_sum or 0,
        ((rows_high or 0) << HALF_BITS) + (rows_low or 0),
    )
