"""The SQL of reports.local_days: per sync, one row of comma-separated lists, a value per
local day (day, runs, duration sum and maximum, timed runs, their rows in 32-bit halves),
and every duration, from the local-day rollups; or the durations of one cut day's runs
(and their timed rows). One row per sync, not per day or per run, each sync's days or runs
read as one range of an index (sql.per_sync), and only the lists a report asks for: each
list costs the database a number-to-text conversion per day. Keyed by sql.driver_id: no
UUID built per sync."""

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
from insights.reports.sql import driver_id, duration_seconds, int_list, per_sync
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
KEY = driver_id(Sync.id)


def rollup_lists(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    after: int,
    names: Sequence[str] = LISTED,
) -> dict[Any, Lists]:
    """Per sync, its rollups of the local days after `after`: the lists of `names` (of
    LISTED, "day" first), the per-day ones lined up, "durations" every duration."""
    # No ORDER BY in the lists: both databases feed each row of a group to all of its
    # aggregates in turn, so the lists line up; their days come in the scan's (the key's)
    # order, which day_columns checks. PostgreSQL sorted each ordered list on its own: a
    # third of the query.
    columns = [int_list(getattr(SyncLocalDay, name)) for name in names]
    scanned = (
        SyncLocalDay.workspace_id == Sync.workspace_id,
        SyncLocalDay.sync_id == Sync.id,
        SyncLocalDay.day > after,
    )
    ids = None if sync_ids is None else list(sync_ids)
    query = per_sync(is_sqlite(session), columns, scanned, SyncLocalDay, workspace_id, ids, KEY)
    return {
        sync_id: list(values)
        for sync_id, *values in session.execute(query).all()
        if values[0] is not None
    }


def cut_day_lists(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    low: datetime,
    high: datetime,
    rows: bool,
) -> dict[Any, tuple[str, int, int]]:
    """Per sync with completed runs started in [low, high): their durations (a list), and
    if `rows` the high and low 32-bit halves of the rows of those that took time, summed
    (else 0, 0). Counts, sums and maxima are the caller's, from the durations: SQL would
    work each run's duration out once per aggregate."""
    duration = duration_seconds(SyncRun.started_at, SyncRun.completed_at)
    columns: list[Any] = [int_list(duration)]
    if rows:
        high_rows, low_rows = halves(
            SyncRun.rows_created, SyncRun.rows_updated, SyncRun.rows_deleted
        )
        timed = SyncRun.completed_at > SyncRun.started_at  # duration > 0: whole seconds
        columns += [
            cast(func.sum(case((timed, value), else_=0)), BigInteger)
            for value in (high_rows, low_rows)
        ]
    scanned = (
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.started_at >= low,
        SyncRun.started_at < high,
        SyncRun.status == "completed",
    )
    ids = None if sync_ids is None else list(sync_ids)
    query = per_sync(is_sqlite(session), columns, scanned, SyncRun, workspace_id, ids, KEY)
    found = {}
    for sync_id, durations, *summed in session.execute(query).all():
        if durations is not None:
            high_sum, low_sum = summed or (0, 0)
            found[sync_id] = (durations, int(high_sum), int(low_sum))
    return found
