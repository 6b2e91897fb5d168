"""The SQL of reports.local_days: per sync, one row of comma-separated lists, a value per
local day (day, runs, duration sum and maximum, timed runs, their rows in 32-bit halves),
and every duration: from the local-day rollups, or from the runs of one cut day. One row
per sync, not per day or per run, and each sync's days or runs read as one range of an
index: SQLite picks that plan for a join from the syncs, PostgreSQL gets LATERAL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
from insights.models import Sync, SyncLocalDay, SyncRun
from insights.reports.sql import aligned_int_list, duration_seconds, int_list

HALF_BITS = 32
LOW_MASK = (1 << HALF_BITS) - 1
# PostgreSQL shifts a bigint by an integer (a bigint bind parameter finds no operator).
SHIFT = literal_column(str(HALF_BITS), Integer)
LISTED = (
    "day",
    "runs",
    "duration_sum",
    "duration_max",
    "timed_runs",
    "timed_rows_high",
    "timed_rows_low",
    "durations",
)
Lists = list[str]  # one text per LISTED name


def rollup_lists(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    after: int,
) -> dict[uuid.UUID, Lists]:
    """Per sync, its rollups of the local days after `after`, each list in day order."""
    day = SyncLocalDay.day
    columns: list[Any] = [aligned_int_list(getattr(SyncLocalDay, name), day) for name in LISTED]
    columns[-1] = int_list(SyncLocalDay.durations)  # every duration, in no order
    scanned = (
        SyncLocalDay.workspace_id == Sync.workspace_id,
        SyncLocalDay.sync_id == Sync.id,
        day > after,
    )
    query = _per_sync(session, workspace_id, sync_ids, columns, scanned, SyncLocalDay)
    return {
        sync_id: list(values)
        for sync_id, *values in session.execute(query)
        if values[0] is not None
    }


def cut_day_lists(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    day: int,
    low: datetime,
    high: datetime,
) -> dict[uuid.UUID, Lists]:
    """Per sync, its completed runs started in [low, high), summed as the rollups sum a
    day: for a cut of the window's first local `day` that lies wholly on that day."""
    duration = duration_seconds(SyncRun.started_at, SyncRun.completed_at)
    timed = duration > 0
    counts = (SyncRun.rows_created, SyncRun.rows_updated, SyncRun.rows_deleted)
    high_rows = _added(count.op(">>")(SHIFT) for count in counts)
    low_rows = _added(count.op("&")(LOW_MASK) for count in counts)

    def timed_sum(value: Any) -> Any:
        return cast(func.sum(case((timed, value), else_=0)), BigInteger)

    columns = [
        func.count(),
        cast(func.sum(duration), BigInteger),
        func.max(duration),
        timed_sum(1),
        timed_sum(high_rows),
        timed_sum(low_rows),
        int_list(duration),
    ]
    scanned = (
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.started_at >= low,
        SyncRun.started_at < high,
        SyncRun.status == "completed",
    )
    query = _per_sync(session, workspace_id, sync_ids, columns, scanned, SyncRun)
    return {
        sync_id: [str(day), *(str(value) for value in values[:-1]), values[-1]]
        for sync_id, *values in session.execute(query)
        if values[0]
    }


def _added(terms: Any) -> ColumnElement[Any]:
    total: ColumnElement[Any] | None = None
    for term in terms:
        total = term if total is None else total + term
    assert total is not None
    return total


def _per_sync(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    columns: list[Any],
    scanned: tuple[ColumnElement[bool], ...],
    table: Any,
) -> Select[Any]:
    if is_sqlite(session):
        query = select(Sync.id, *columns).join(table, and_(*scanned)).group_by(Sync.id)
    else:
        labelled = [column.label(f"c{n}") for n, column in enumerate(columns)]
        per_sync = select(*labelled).where(*scanned).lateral()
        query = select(Sync.id, *per_sync.c).join(per_sync, true())
    query = query.where(Sync.workspace_id == workspace_id)
    return query if sync_ids is None else query.where(Sync.id.in_(list(sync_ids)))
