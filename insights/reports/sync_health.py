"""Sync health: per-sync run counts, success rate, duration and rows over a window, and
each sync's health score (contract 5.1 and 8.1)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.models import Sync, SyncState
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
    expected_interval,
    health_inputs,
    score_counts,
    score_probe_columns,
    with_state,
)
from insights.reports.health_score import STATUSES, HealthComponents, HealthInputs, health
from insights.reports.run_totals import SyncKey, failed_after, sync_key, totals_since
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


class _WindowStats(NamedTuple):
    total_runs: int = 0
    failed_runs: int = 0
    rows_synced: int = 0
    duration_sum: int = 0
    durations: int = 0
    score: ScoreCounts = ScoreCounts()


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


class SyncHealthRow(NamedTuple):
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
    rows, entries, all_inputs = [], [], []
    no_runs = _WindowStats()
    for row in by_name(session.connection().execute(_syncs_query(workspace_id, sync_ids))):
        window = stats.get(row.key, no_runs)
        interval = expected_interval(row.schedule, row.sla_freshness_minutes, zone, now)
        inputs = health_inputs(row, window.score, interval, now)
        rows.append(row)
        entries.append(_entry(row, window, inputs))
        all_inputs.append(inputs)
    # Validated as one list, in pydantic's core, rather than a model built per sync.
    validated = _ENTRIES.validate_python(entries)
    return [SyncHealthRow(*found) for found in zip(rows, validated, all_inputs, strict=True)]


_ENTRIES = TypeAdapter(list[SyncHealthEntry])


def score_moment(now: datetime | None) -> datetime:
    """The moment a score is computed at: the request's time, to the whole second (as every
    stored timestamp is), so that its arithmetic stays exact."""
    return resolve_now(now).replace(microsecond=0)


def status_counts(statuses: Iterable[str]) -> HealthStatuses:
    counted = Counter(statuses)
    return HealthStatuses(**{status: counted[status] for status in STATUSES})


def _entry(row: Any, stats: _WindowStats, inputs: HealthInputs) -> dict[str, Any]:
    """The fields of one sync's SyncHealthEntry."""
    score = health(inputs, row.status)
    return dict(
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


def _syncs_query(workspace_id: uuid.UUID, sync_ids: list[uuid.UUID] | None) -> Any:
    query = select(
        Sync.id,
        sync_key.label("key"),
        Sync.name,
        Sync.status,
        SyncState.last_status,
        SyncState.last_started_at,
        # Failing is judged on finished runs of any age, not only the window's.
        SyncState.last_finished_status,
        Sync.kind,
        *score_probe_columns(),
    ).where(Sync.workspace_id == workspace_id)
    query = with_state(query)
    return query if sync_ids is None else query.where(Sync.id.in_(sync_ids))


def _window_stats(
    session: Session,
    workspace_id: uuid.UUID,
    start: datetime,
    now: datetime,
    sync_ids: list[uuid.UUID] | None,
) -> dict[SyncKey, _WindowStats]:
    """Per sync (by its `sync_key`): finished runs started at or after `start`, sums over
    the completed ones, and the score's 7-day counts, from the daily rollups and the
    edges' partial days."""
    week, half = now - timedelta(days=SCORE_DAYS), now - timedelta(days=SCORE_DAYS / 2)
    totals = totals_since(session, workspace_id, [start, week, half], sync_ids)
    late_failures = failed_after(session, workspace_id, now, sync_ids)
    stats = {}
    for sync_id, (window, since_week, since_half) in totals.items():
        stats[sync_id] = _WindowStats(
            total_runs=window.finished,
            failed_runs=window.failed,
            rows_synced=window.rows_synced,
            # Every completed run has a completion time (the run table's check constraint).
            duration_sum=window.duration_sum,
            durations=window.completed,
            score=score_counts(since_week, since_half, late_failures.get(sync_id, 0)),
        )
    return stats
