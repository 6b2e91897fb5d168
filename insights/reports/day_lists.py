"""The SQL of reports.local_days: per sync, one row of comma-separated lists, a value per
local day (day, runs, duration sum and maximum, timed runs, their rows in 32-bit halves),
and every duration: from the local-day rollups, or from the runs of one cut day. One row
per sync, not per day or per run, and each sync's days or runs read as one range of an
index (sql.per_sync)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    case,
    cast,
    func,
)
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.models import Sync, SyncLocalDay, SyncRun
from insights.reports.sql import aligned_int_list, duration_seconds, int_list, per_sync
from insights.reports.sums import halves

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
    ids = None if sync_ids is None else list(sync_ids)
    query = per_sync(is_sqlite(session), columns, scanned, SyncLocalDay, workspace_id, ids)
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
    high_rows, low_rows = halves(SyncRun.rows_created, SyncRun.rows_updated, SyncRun.rows_deleted)

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
    ids = None if sync_ids is None else list(sync_ids)
    query = per_sync(is_sqlite(session), columns, scanned, SyncRun, workspace_id, ids)
    return {
        sync_id: [str(day), *(str(value) for value in values[:-1]), values[-1]]
        for sync_id, *values in session.execute(query)
        if values[0]
    }
