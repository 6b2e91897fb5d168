"""The facts of every sync's health score at the request's moment (contract 8.1), read in
SQL beside sync-health's own queries: the 7-day counts ride on its window scan, the rest
are index probes per sync, and the latency's 30-day mean one range scan per sync."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, ScalarSelect, Select, String, and_, case, cast, func, select
from sqlalchemy.orm import Session

from insights.models import Sync, SyncRun
from insights.reports.health_score import HealthInputs
from insights.reports.schedules import intervals
from insights.reports.sql import days_before, duration_seconds

SCORE_DAYS = 7
LATENCY_HISTORY_DAYS = 30
FINISHED = ("completed", "failed")


@dataclass(frozen=True)
class ScoreCounts:
    """The 7-day counts of finished runs (finished by now)."""

    finished: int = 0
    completed: int = 0
    failed_old: int = 0
    failed_new: int = 0


def score_count_columns(now: datetime) -> tuple[ColumnElement[Any], ...]:
    """Aggregates over the runs of a window scan that starts at or before now - 7 days."""
    week, half = now - timedelta(days=SCORE_DAYS), now - timedelta(days=SCORE_DAYS / 2)
    # The scan holds finished runs only. "The last 7 days" has no upper bound (contract 5);
    # f_new's interval ends at now.
    counted = SyncRun.started_at >= week
    failed = and_(counted, SyncRun.status == "failed")
    fails_new = and_(failed, SyncRun.started_at >= half, SyncRun.started_at <= now)
    return (
        func.count(case((counted, 1))).label("score_finished"),
        func.count(case((and_(counted, SyncRun.status == "completed"), 1))).label(
            "score_completed"
        ),
        func.count(case((and_(failed, SyncRun.started_at < half), 1))).label("failed_old"),
        func.count(case((fails_new, 1))).label("failed_new"),
    )


def score_counts(row: Any) -> ScoreCounts:
    return ScoreCounts(
        int(row.score_finished), int(row.score_completed), int(row.failed_old), int(row.failed_new)
    )


def _runs_of_sync(*conditions: Any) -> Select[Any]:
    return select().where(
        SyncRun.workspace_id == Sync.workspace_id, SyncRun.sync_id == Sync.id, *conditions
    )


def _latest(column: Any, *statuses: str) -> ScalarSelect[Any]:
    """`column` of the sync's run with the latest started_at among those in `statuses`
    (at any time, as 8.1 says); a tie in started_at goes to the larger id."""
    query = _runs_of_sync(SyncRun.status.in_(statuses))
    query = query.add_columns(column).order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
    latest: ScalarSelect[Any] = query.limit(1).correlate(Sync).scalar_subquery()
    return latest


def score_probe_columns() -> tuple[Any, ...]:
    """Per-sync columns for the syncs query: the latest finished and completed runs, the
    latest success, the schedule and the freshness target."""
    last_success = (
        _runs_of_sync(SyncRun.status == "completed", SyncRun.completed_at.is_not(None))
        .add_columns(SyncRun.completed_at)
        .order_by(SyncRun.completed_at.desc())
        .limit(1)
        .correlate(Sync)
        .scalar_subquery()
    )
    return (
        _latest(SyncRun.status, *FINISHED).label("score_latest_finished"),
        _latest(SyncRun.started_at, "completed").label("latest_completed_started"),
        _latest(SyncRun.completed_at, "completed").label("latest_completed_at"),
        last_success.label("last_success_at"),
        Sync.schedule,
        Sync.sla_freshness_minutes,
    )


def mean_durations(
    session: Session,
    workspace_id: uuid.UUID,
    now: datetime,
    sync_ids: list[uuid.UUID] | None = None,
) -> dict[uuid.UUID, Fraction]:
    """Per sync: the mean duration of its completed runs started in the 30 days before
    its latest completed run started; absent when there are none."""
    latest = _latest(SyncRun.started_at, "completed")
    history = _runs_of_sync(
        SyncRun.status == "completed",
        SyncRun.started_at >= days_before(latest, LATENCY_HISTORY_DAYS),
        SyncRun.started_at < latest,
    )
    # Sum and count in one range scan per sync (one correlated subquery, "sum:count"):
    # two subqueries would scan the range twice, a join would sort for its GROUP BY.
    total = func.sum(duration_seconds(SyncRun.started_at, SyncRun.completed_at))
    both = cast(total, String) + ":" + cast(func.count(), String)
    summary = history.add_columns(both).correlate(Sync).scalar_subquery()
    query = select(Sync.id, summary).where(Sync.workspace_id == workspace_id)
    if sync_ids is not None:
        query = query.where(Sync.id.in_(sync_ids))
    means = {}
    for sync_id, text in session.execute(query):
        if text is not None:  # null: no run in the 30 days (the sum of nothing is null)
            total_seconds, count = text.split(":")
            means[sync_id] = Fraction(int(Decimal(total_seconds)), int(count))
    return means


def health_inputs(
    row: Any, counts: ScoreCounts, mean: Fraction | None, zone: ZoneInfo, now: datetime
) -> HealthInputs:
    """The score's facts of one sync from its probe row (score_probe_columns)."""
    latest_duration = None
    if row.latest_completed_started is not None:
        span = row.latest_completed_at - row.latest_completed_started
        latest_duration = int(span.total_seconds())
    since_success = None
    if row.last_success_at is not None:
        since_success = int((now - row.last_success_at).total_seconds())
    return HealthInputs(
        finished_runs_7d=counts.finished,
        completed_runs_7d=counts.completed,
        latest_finished_completed=None
        if row.score_latest_finished is None
        else row.score_latest_finished == "completed",
        failed_old=counts.failed_old,
        failed_new=counts.failed_new,
        latest_duration_seconds=latest_duration,
        mean_duration_seconds=mean,
        expected_interval_seconds=expected_interval(
            row.schedule, row.sla_freshness_minutes, zone, now
        ),
        seconds_since_last_success=since_success,
    )


def expected_interval(
    schedule: str | None, sla_freshness_minutes: int | None, zone: ZoneInfo, now: datetime
) -> int | None:
    """The freshness target in seconds, else the cron schedule's interval, else None."""
    if sla_freshness_minutes is not None:
        return sla_freshness_minutes * 60
    return intervals.interval(schedule, zone, now)
