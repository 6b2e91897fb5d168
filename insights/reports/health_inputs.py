"""The facts of every sync's health score at the request's moment (contract 8.1), read in
SQL beside sync-health's own queries: the 7-day counts come from the daily rollups with its
window (run_totals), the latest runs and the latency's 30-day mean from each sync's state
row (sync_states, kept by the run table's triggers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_

from insights.models import Sync, SyncState
from insights.reports.schedules import intervals
from insights.reports.sql import duration_seconds

SCORE_DAYS = 7
LATENCY_HISTORY_DAYS = 30  # migration 0006 (MEAN_DAYS) keeps the mean over these
FINISHED = ("completed", "failed")


def score_probe_columns() -> tuple[Any, ...]:
    """Per-sync columns for a query over syncs joined by `with_state`: the latest finished
    and completed runs, the 30-day mean duration's terms, the schedule and the freshness
    target. (The time since the latest success is the caller's: sync-health computes it in
    SQL, the SLA page reads the moment.)"""
    return (
        SyncState.last_finished_status.label("score_latest_finished"),
        # In SQL: no timestamp to parse per sync for it.
        duration_seconds(SyncState.latest_completed_started, SyncState.latest_completed_at).label(
            "latest_duration_seconds"
        ),
        SyncState.mean_duration_sum,
        SyncState.mean_duration_count,
        Sync.schedule,
        Sync.sla_freshness_minutes,
    )


def with_state(query: Select[Any]) -> Select[Any]:
    """`query` over syncs with each sync's state row (none for a sync that never ran)."""
    return query.outerjoin(
        SyncState, and_(SyncState.workspace_id == Sync.workspace_id, SyncState.sync_id == Sync.id)
    )


def expected_interval(
    schedule: str | None, sla_freshness_minutes: int | None, zone: ZoneInfo, now: datetime
) -> int | None:
    """The freshness target in seconds, else the cron schedule's interval, else None."""
    if sla_freshness_minutes is not None:
        return sla_freshness_minutes * 60
    return intervals.interval(schedule, zone, now)
