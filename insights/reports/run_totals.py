"""Per-sync sums of finished runs over windows, read from the daily rollups (sync_run_days)
plus the runs of one partial day at each edge, so a window costs O(syncs x days), not
O(runs), and stays exact: an edge at `start` is the runs in [start, the next midnight),
then whole days after it come from the rollups."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    func,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.models import Sync, SyncRun, SyncRunDay
from insights.reports.sql import duration_seconds

FINISHED = ("completed", "failed")
HALF_BITS = 32
LOW_MASK = (1 << HALF_BITS) - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
# PostgreSQL shifts a bigint by an integer (a bigint bind parameter finds no operator).
SHIFT = literal_column(str(HALF_BITS), Integer)
SUMMED = ("completed", "failed", "duration_sum", "rows_high", "rows_low")


@dataclass(frozen=True)
class RunTotals:
    """Finished runs (completed + failed) and the sums over the completed ones."""

    completed: int = 0
    failed: int = 0
    duration_sum: int = 0  # seconds
    rows_synced: int = 0

    @property
    def finished(self) -> int:
        return self.completed + self.failed

    def __add__(self, other: RunTotals) -> RunTotals:
        return RunTotals(
            self.completed + other.completed,
            self.failed + other.failed,
            self.duration_sum + other.duration_sum,
            self.rows_synced + other.rows_synced,
        )


# A sync as the driver hands its id over (SQLite: 32 hex digits; PostgreSQL: a UUID),
# without SQLAlchemy building a UUID per row of each part: the keys of what this module
# returns, matched with `sync_key` in the caller's own query.
sync_key = type_coerce(Sync.id, String)
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
    days = sorted({day_of(start) for start in starts})
    # The whole days after each start day: disjoint segments summed once each, then added
    # up from the latest back (the days after an earlier start include a later one's).
    segments = [
        _rollup_sums(session, workspace_id, low, high, sync_ids)
        for low, high in zip(days, [*days[1:], None], strict=True)
    ]
    after: dict[int, dict[SyncKey, RunTotals]] = {}
    running: dict[SyncKey, RunTotals] = {}
    for day, segment in reversed(list(zip(days, segments, strict=True))):
        running = _merged(running, segment)
        after[day] = running
    edges = {start: _edge_sums(session, workspace_id, start, sync_ids) for start in set(starts)}
    synced = set(running).union(*edges.values())
    zero = RunTotals()
    return {
        sync_id: [
            after[day_of(start)].get(sync_id, zero) + edges[start].get(sync_id, zero)
            for start in starts
        ]
        for sync_id in synced
    }


def _merged(
    first: dict[SyncKey, RunTotals], second: dict[SyncKey, RunTotals]
) -> dict[SyncKey, RunTotals]:
    merged = dict(first)
    for sync_id, totals in second.items():
        merged[sync_id] = merged[sync_id] + totals if sync_id in merged else totals
    return merged


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
    return {row[0]: int(row.failed) for row in session.execute(query) if row.failed}


def _rollup_sums(
    session: Session,
    workspace_id: uuid.UUID,
    after: int,
    through: int | None,
    sync_ids: list[uuid.UUID] | None,
) -> dict[SyncKey, RunTotals]:
    """Per sync: the rollups of the days after `after`, up to and including `through`."""
    columns = [func.sum(getattr(SyncRunDay, name)) for name in SUMMED]
    scanned = [
        SyncRunDay.workspace_id == Sync.workspace_id,
        SyncRunDay.sync_id == Sync.id,
        SyncRunDay.day > after,
    ]
    if through is not None:
        scanned.append(SyncRunDay.day <= through)
    query = _per_sync(session, workspace_id, sync_ids, columns, tuple(scanned), SyncRunDay)
    return {row[0]: _totals(row) for row in session.execute(query) if row[1] is not None}


def _edge_sums(
    session: Session, workspace_id: uuid.UUID, start: datetime, sync_ids: list[uuid.UUID] | None
) -> dict[SyncKey, RunTotals]:
    """Per sync: the finished runs in [start, the midnight after start's day)."""
    completed = SyncRun.status == "completed"
    counts = (SyncRun.rows_created, SyncRun.rows_updated, SyncRun.rows_deleted)
    duration = duration_seconds(SyncRun.started_at, SyncRun.completed_at)
    columns = [
        func.count(case((completed, 1))).label("completed"),
        func.count(case((SyncRun.status == "failed", 1))).label("failed"),
        func.sum(case((completed, duration), else_=0)).label("duration_sum"),
        func.sum(
            case((completed, _added(count.op(">>")(SHIFT) for count in counts)), else_=0)
        ).label("rows_high"),
        func.sum(
            case((completed, _added(count.op("&")(LOW_MASK) for count in counts)), else_=0)
        ).label("rows_low"),
    ]
    scanned = (
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.started_at >= start,
        SyncRun.started_at < EPOCH + (day_of(start) + 1) * DAY,
        SyncRun.status.in_(FINISHED),
    )
    query = _per_sync(session, workspace_id, sync_ids, columns, scanned, SyncRun)
    return {row[0]: _totals(row) for row in session.execute(query) if row[1] or row[2]}


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


def _totals(row: Any) -> RunTotals:
    """A per-sync row (id, then the SUMMED columns) as totals. PostgreSQL sums bigints into
    Decimal (whole here), SQLite into int; null for no rows."""
    completed, failed, duration_sum, rows_high, rows_low = (int(value or 0) for value in row[1:])
    return RunTotals(completed, failed, duration_sum, (rows_high << HALF_BITS) + rows_low)
