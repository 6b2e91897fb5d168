"""One sync in full (contract 8.6), for its detail page: its sync-health entry with the
score and what the score was computed from, its duration, throughput and SLA entries, its
score at the end of each date of the window, and its latest runs."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.errors import NotFound
from insights.models import SyncRun
from insights.reports.common import round_half_up, window_start, workspace_zone
from insights.reports.health_score import HealthInputs
from insights.reports.score_history import ScorePoint, finished_runs, score_history
from insights.reports.sync_duration import SyncDuration, sync_duration
from insights.reports.sync_health import SyncHealthEntry, health_rows, score_moment
from insights.reports.sync_sla import SyncSla, sync_sla
from insights.reports.sync_throughput import SyncThroughput, sync_throughput
from insights.schemas.base import ResponseModel
from insights.schemas.runs import SyncRunRead

RECENT_RUNS = 50
SYNC_KINDS = {"model": "sync", "audience": "audience_sync"}


class HealthInputsRead(ResponseModel):
    finished_runs_7d: int
    completed_runs_7d: int
    failed_old: int
    failed_new: int
    latest_duration_seconds: int | None
    mean_duration_seconds: float | None
    expected_interval_seconds: int | None
    seconds_since_last_success: int | None


class SyncDetailResponse(SyncHealthEntry):
    sync_kind: str
    schedule: str | None
    health_inputs: HealthInputsRead
    duration: SyncDuration
    throughput: SyncThroughput
    sla: SyncSla | None
    score_history: list[ScorePoint]
    recent_runs: list[SyncRunRead]


def sync_detail(
    session: Session,
    workspace_id: uuid.UUID,
    sync_id: uuid.UUID,
    *,
    days: int,
    now: dt.datetime | None = None,
) -> SyncDetailResponse:
    """A sync of either kind over the last `days` days; 404 for one that does not exist."""
    now = score_moment(now)
    found = health_rows(session, workspace_id, days=days, now=now, sync_ids=[sync_id])
    if not found:
        raise NotFound(f"Sync {sync_id} does not exist.")
    health = found[0]
    start = window_start(now, days)
    history = score_history(
        finished_runs(session, workspace_id, sync_id, start),
        health.row,
        workspace_zone(session, workspace_id),
        start,
        now,
    )
    sla = sync_sla(
        session, workspace_id, days=days, now=now, sync_ids=[sync_id], include_paused=True
    ).syncs
    return SyncDetailResponse(
        **health.entry.model_dump(),
        sync_kind=SYNC_KINDS[health.row.kind],
        schedule=health.row.schedule,
        health_inputs=inputs_read(health.inputs),
        duration=sync_duration(session, workspace_id, days=days, sync_ids=[sync_id], now=now).syncs[
            0
        ],
        throughput=sync_throughput(
            session, workspace_id, days=days, sync_ids=[sync_id], now=now
        ).syncs[0],
        sla=sla[0] if sla else None,
        score_history=history,
        recent_runs=recent_runs(session, workspace_id, sync_id),
    )


def inputs_read(inputs: HealthInputs) -> HealthInputsRead:
    mean = inputs.mean_duration_seconds
    return HealthInputsRead(
        finished_runs_7d=inputs.finished_runs_7d,
        completed_runs_7d=inputs.completed_runs_7d,
        failed_old=inputs.failed_old,
        failed_new=inputs.failed_new,
        latest_duration_seconds=inputs.latest_duration_seconds,
        mean_duration_seconds=None if mean is None else round_half_up(mean, 1, 1),
        expected_interval_seconds=inputs.expected_interval_seconds,
        seconds_since_last_success=inputs.seconds_since_last_success,
    )


def recent_runs(session: Session, workspace_id: uuid.UUID, sync_id: uuid.UUID) -> list[SyncRunRead]:
    """The sync's latest runs of any status, newest started_at first (then id, as the run
    list orders them)."""
    runs = session.scalars(
        select(SyncRun)
        .where(SyncRun.workspace_id == workspace_id, SyncRun.sync_id == sync_id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id)
        .limit(RECENT_RUNS)
    )
    return [SyncRunRead.model_validate(run) for run in runs]
