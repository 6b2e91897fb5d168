"""The facts of every sync's health score at the request's moment (contract 8.1), read in
SQL beside sync-health's own queries: the 7-day counts come from the daily rollups with its
window (run_totals), the latest runs and the latency's 30-day mean from each sync's state
row (sync_states, kept by the run table's triggers)."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_

from insights.models import Sync, SyncState
from insights.reports.health_score import HealthInputs
from insights.reports.run_totals import RunTotals
from insights.reports.schedules import intervals
from insights.reports.sql import duration_seconds

SCORE_DAYS = 7
LATENCY_HISTORY_DAYS = 30  # migration 0006 (MEAN_DAYS) keeps the mean over these
FINISHED = ("completed", "failed")


class ScoreCounts(NamedTuple):
    """The 7-day counts of finished runs (finished by now)."""

    finished: int = 0
    completed: int = 0
    failed_old: int = 0
    failed_new: int = 0


def score_counts(week: RunTotals, half: RunTotals, failed_after_now: int) -> ScoreCounts:
    """The 7-day counts from the runs started at or after now - 7 d (`week`), at or after
    now - 3.5 d (`half`), and the failed runs started after now. "The last 7 days" has no
    upper bound (contract 5); f_new's interval ends at now."""
    return ScoreCounts(
        finished=week.finished,
        completed=week.completed,
        failed_old=week.failed - half.failed,
        failed_new=half.failed - failed_after_now,
    )


def score_probe_columns() -> tuple[Any, ...]:
    """Per-sync columns for a query over syncs joined by `with_state`: the latest finished
    and completed runs, the latest success, the 30-day mean duration's terms, the schedule
    and the freshness target."""
    return (
        SyncState.last_finished_status.label("score_latest_finished"),
        # In SQL: no timestamp to parse per sync for it.
        duration_seconds(SyncState.latest_completed_started, SyncState.latest_completed_at).label(
            "latest_duration_seconds"
        ),
        SyncState.last_success_at,
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


def health_inputs(
    row: Any, counts: ScoreCounts, interval: int | None, now: datetime
) -> HealthInputs:
    """The score's facts of one sync from its probe row (score_probe_columns) and its
    expected interval (expected_interval)."""
    mean = None
    if row.mean_duration_count:  # none without a state row, or no run in those 30 days
        mean = Fraction(row.mean_duration_sum, row.mean_duration_count)
    since_success = None
    if row.last_success_at is not None:
        since_success = int((now - row.last_success_at).total_seconds())
    latest = row.latest_duration_seconds
    return HealthInputs(
        finished_runs_7d=counts.finished,
        completed_runs_7d=counts.completed,
        latest_finished_completed=None
        if row.score_latest_finished is None
        else row.score_latest_finished == "completed",
        failed_old=counts.failed_old,
        failed_new=counts.failed_new,
        latest_duration_seconds=None if latest is None else int(latest),
        mean_duration_seconds=mean,
        expected_interval_seconds=interval,
        seconds_since_last_success=since_success,
    )


def expected_interval(
    schedule: str | None, sla_freshness_minutes: int | None, zone: ZoneInfo, now: datetime
) -> int | None:
    """The freshness target in seconds, else the cron schedule's interval, else None."""
    if sla_freshness_minutes is not None:
        return sla_freshness_minutes * 60
    return intervals.interval(schedule, zone, now)
