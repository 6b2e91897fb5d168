"""Sync health: per-sync run counts, success rate, duration and rows over a window, and
each sync's health score (contract 5.1 and 8.1)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ScalarSelect, Select, and_, case, func, select, true
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.models import Sync, SyncRun
from insights.reports.common import (
    by_name,
    resolve_now,
    round_half_up,
    round_half_up_int,
    window_start,
    workspace_zone,
)
from insights.reports.health_inputs import (
    SCORE_DAYS,
    ScoreCounts,
    health_inputs,
    mean_durations,
    score_count_columns,
    score_counts,
    score_probe_columns,
)
from insights.reports.health_score import STATUSES, HealthComponents, HealthInputs, health
from insights.reports.sql import duration_seconds
from insights.reports.sums import ExactSum, exact_sum
from insights.schemas.base import ResponseModel, example
from insights.types import OutTimestamp

FINISHED = ("completed", "failed")
DEFAULT_DAYS = 7  # the window when the request names none


class HealthStatuses(ResponseModel):
    healthy: int
    warning: int
    degraded: int
    critical: int
    no_data: int
    paused: int


class SyncHealthEntry(ResponseModel):
    sync_id: uuid.UUID
    sync_name: str
    status: str
    last_run_status: str | None
    last_run_at: OutTimestamp | None
    success_rate: float | None
    total_runs: int
    failed_runs: int
    avg_duration_seconds: int | None
    total_rows_synced: int
    health_score: int | None
    health_status: str
    health_components: HealthComponents | None


class SyncHealthResponse(ResponseModel):
    model_config = example(
        {
            "total_syncs": 12,
            "active_syncs": 10,
            "healthy_syncs": 9,
            "failing_syncs": 1,
            "paused_syncs": 2,
            "health_statuses": {
                "healthy": 8,
                "warning": 1,
                "degraded": 0,
                "critical": 1,
                "no_data": 0,
                "paused": 2,
            },
            "syncs": [
                {
                    "sync_id": "6f1c2f0e-4a55-4c1e-9d7e-0a8f0d1e2b3c",
                    "sync_name": "Customers to Salesforce",
                    "status": "active",
                    "last_run_status": "completed",
                    "last_run_at": "2024-01-15T15:00:00Z",
                    "success_rate": 0.98,
                    "total_runs": 42,
                    "failed_runs": 1,
                    "avg_duration_seconds": 145,
                    "total_rows_synced": 125000,
                    "health_score": 91,
                    "health_status": "healthy",
                    "health_components": {
                        "success": 39.0,
                        "error_trend": 20.0,
                        "latency": 20.0,
                        "freshness": 12.5,
                    },
                }
            ],
        }
    )

    total_syncs: int
    active_syncs: int
    healthy_syncs: int
    failing_syncs: int
    paused_syncs: int
    health_statuses: HealthStatuses
    syncs: list[SyncHealthEntry]


@dataclass(frozen=True)
class _WindowStats:
    total_runs: int = 0
    failed_runs: int = 0
    rows_synced: int = 0
    duration_sum: int | Decimal = 0  # int on SQLite, Decimal on PostgreSQL: exact either way
    durations: int = 0
    score: ScoreCounts = field(default_factory=ScoreCounts)


def sync_health(
    session: Session, workspace_id: uuid.UUID, *, days: int, now: datetime | None = None
) -> SyncHealthResponse:
    """Health of every sync (model syncs and audience-syncs) over the last `days` days."""
    return sync_health_and_failing(session, workspace_id, days=days, now=now)[0]


def sync_health_and_failing(
    session: Session, workspace_id: uuid.UUID, *, days: int, now: datetime | None = None
) -> tuple[SyncHealthResponse, set[uuid.UUID]]:
    """sync_health, and the IDs of the syncs its `failing_syncs` counts (the dashboard lists
    them): one rule, one query."""
    found = health_rows(session, workspace_id, days=days, now=score_moment(now))
    rows = [one.row for one in found]
    entries = [one.entry for one in found]
    active = [row for row in rows if row.status == "active"]
    # Failing: active, and its latest finished run (of any age) failed.
    failing = {row.id for row in active if row.last_finished_status == "failed"}
    report = SyncHealthResponse(
        total_syncs=len(rows),
        active_syncs=len(active),
        healthy_syncs=len(active) - len(failing),
        failing_syncs=len(failing),
        paused_syncs=sum(1 for row in rows if row.status == "paused"),
        health_statuses=status_counts(entry.health_status for entry in entries),
        syncs=entries,
    )
    return report, failing


@dataclass(frozen=True)
class SyncHealthRow:
    """One sync's health: its row (with the score's probes), entry and score inputs."""

    row: Any
    entry: SyncHealthEntry
    inputs: HealthInputs


def health_rows(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    days: int,
    now: datetime,
    sync_ids: list[uuid.UUID] | None = None,
) -> list[SyncHealthRow]:
    """The health of the syncs (those of `sync_ids`, else all), by name then ID."""
    zone = workspace_zone(session, workspace_id)
    stats = _window_stats(session, workspace_id, window_start(now, days), now, sync_ids)
    means = mean_durations(session, workspace_id, now, sync_ids)
    found = []
    for row in by_name(session.execute(_syncs_query(workspace_id, now, sync_ids))):
        window = stats.get(row.id, _WindowStats())
        inputs = health_inputs(row, window.score, means.get(row.id), zone, now)
        found.append(SyncHealthRow(row, _entry(row, window, inputs), inputs))
    return found


def score_moment(now: datetime | None) -> datetime:
    """The moment a score is computed at: the request's time, to the whole second (as every
    stored timestamp is), so that its arithmetic stays exact."""
    return resolve_now(now).replace(microsecond=0)


def status_counts(statuses: Iterable[str]) -> HealthStatuses:
    counted = Counter(statuses)
    return HealthStatuses(**{status: counted[status] for status in STATUSES})


def _entry(row: Any, stats: _WindowStats, inputs: HealthInputs) -> SyncHealthEntry:
    score = health(inputs, row.status)
    return SyncHealthEntry(
        sync_id=row.id,
        sync_name=row.name,
        status=row.status,
        last_run_status=row.last_status,
        last_run_at=row.last_started_at,
        success_rate=round_half_up(stats.total_runs - stats.failed_runs, stats.total_runs, 2),
        total_runs=stats.total_runs,
        failed_runs=stats.failed_runs,
        avg_duration_seconds=round_half_up_int(stats.duration_sum, stats.durations),
        total_rows_synced=stats.rows_synced,
        health_score=score.score,
        health_status=score.status,
        health_components=score.components,
    )


def _of_sync(query: Select[Any]) -> ScalarSelect[Any]:
    """`query` over the runs of the outer `Sync` row, as a correlated scalar subquery."""
    runs_of_sync = (SyncRun.workspace_id == Sync.workspace_id, SyncRun.sync_id == Sync.id)
    return query.where(*runs_of_sync).correlate(Sync).scalar_subquery()


def _latest_run(column: Any, statuses: tuple[str, ...] = ()) -> ScalarSelect[Any]:
    """`column` of the sync's run with the latest `started_at`.

    A correlated ORDER BY ... LIMIT 1 is one probe of the (workspace, sync, started_at)
    index, several times faster than a window function. Runs started in the same second
    are told apart by id (the larger wins), so the pick is deterministic."""
    query = select(column)
    if statuses:
        query = query.where(SyncRun.status.in_(statuses))
    return _of_sync(query.order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(1))


def _syncs_query(workspace_id: uuid.UUID, now: datetime, sync_ids: list[uuid.UUID] | None) -> Any:
    query = select(
        Sync.id,
        Sync.name,
        Sync.status,
        _latest_run(SyncRun.status).label("last_status"),
        # max() is answered from the index alone, without reading the run.
        _of_sync(select(func.max(SyncRun.started_at))).label("last_started_at"),
        # Failing is judged on finished runs of any age, not only the window's.
        _latest_run(SyncRun.status, FINISHED).label("last_finished_status"),
        Sync.kind,
        *score_probe_columns(),
    ).where(Sync.workspace_id == workspace_id)
    return query if sync_ids is None else query.where(Sync.id.in_(sync_ids))


def _window_stats(
    session: Session,
    workspace_id: uuid.UUID,
    start: datetime,
    now: datetime,
    sync_ids: list[uuid.UUID] | None,
) -> dict[uuid.UUID, _WindowStats]:
    """Per sync: finished runs started at or after `start`, sums over the completed ones,
    and the score's 7-day counts, in one scan from the earlier of `start` and now - 7 d."""
    scan_start = min(start, now - timedelta(days=SCORE_DAYS))
    in_window = SyncRun.started_at >= start
    completed = and_(in_window, SyncRun.status == "completed")
    rows = (SyncRun.rows_created, SyncRun.rows_updated, SyncRun.rows_deleted)
    # Each count may be 2**63 - 1: summed so that no accepted run can overflow the read.
    rows_synced = exact_sum(session, "rows_synced", *(case((completed, n), else_=0) for n in rows))
    duration = case((completed, duration_seconds(SyncRun.started_at, SyncRun.completed_at)))
    durations = exact_sum(session, "duration_sum", duration)
    aggregates = (
        func.count(case((in_window, 1))).label("total_runs"),
        func.count(case((and_(in_window, SyncRun.status == "failed"), 1))).label("failed_runs"),
        *rows_synced.columns,
        *durations.columns,
        # Counting completed_at rather than `duration` saves computing it twice per row.
        func.count(case((completed, SyncRun.completed_at))).label("durations"),
        *score_count_columns(now),
    )
    scanned = (
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.started_at >= scan_start,
        SyncRun.status.in_(FINISHED),
    )
    # Both forms loop over the syncs and range-scan each one's (sync, started_at) index
    # entries; scanning the whole run table instead is 3 to 5 times slower. SQLite picks
    # that plan for a join; PostgreSQL would hash-join a full scan, so it gets LATERAL.
    if is_sqlite(session):
        query = select(Sync.id, *aggregates).join(SyncRun, and_(*scanned)).group_by(Sync.id)
    else:
        per_sync = select(*aggregates).where(*scanned).lateral()
        query = select(Sync.id, *per_sync.c).join(per_sync, true())
    query = query.where(Sync.workspace_id == workspace_id)
    if sync_ids is not None:
        query = query.where(Sync.id.in_(sync_ids))
    return {row.id: _stats(row, rows_synced, durations) for row in session.execute(query)}


def _stats(row: Any, rows_synced: ExactSum, durations: ExactSum) -> _WindowStats:
    # PostgreSQL returns sum() as Decimal, and null for a sync with no run in the window.
    return _WindowStats(
        total_runs=int(row.total_runs),
        failed_runs=int(row.failed_runs or 0),
        rows_synced=int(rows_synced.value(row)),
        duration_sum=durations.value(row),
        durations=int(row.durations),
        score=score_counts(row),
    )
