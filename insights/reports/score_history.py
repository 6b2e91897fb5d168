"""One sync's health score at the end of each date of a window (contract 8.6,
score_history): 8.1 computed with `now` set to that moment, counting only the runs
finished by then. The sync's finished runs are read once, as arrays, and every moment is
a few vector operations on them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from insights.models import SyncRun
from insights.reports.common import local_midnight_utc
from insights.reports.health_inputs import LATENCY_HISTORY_DAYS, SCORE_DAYS, expected_interval
from insights.reports.health_score import HealthInputs, health
from insights.reports.run_series import Ints
from insights.reports.sql import epoch_seconds
from insights.schemas.base import ResponseModel

DAY = 86400


class ScorePoint(ResponseModel):
    date: dt.date
    health_score: int | None


@dataclass(frozen=True)
class FinishedRuns:
    """A sync's finished runs since some moment, by started_at then id; and what came
    before it: the latest finished run's status and the latest success."""

    started: Ints
    completed: Ints
    succeeded: NDArrayBool
    prior_status: str | None
    prior_success: int | None


NDArrayBool = np.ndarray[Any, np.dtype[np.bool_]]


def finished_runs(
    session: Session, workspace_id: uuid.UUID, sync_id: uuid.UUID, window: dt.datetime
) -> FinishedRuns:
    """The runs every moment of a window starting at `window` can need: from 7 days before
    it, and far enough back for the 30-day history of the latest run completed before it."""
    of_sync = (SyncRun.workspace_id == workspace_id, SyncRun.sync_id == sync_id)
    anchor = session.scalar(
        select(func.max(SyncRun.started_at)).where(
            *of_sync, SyncRun.status == "completed", SyncRun.started_at < window
        )
    )
    since = window - dt.timedelta(days=SCORE_DAYS)
    if anchor is not None:
        since = min(since, anchor - dt.timedelta(days=LATENCY_HISTORY_DAYS))
    rows = session.execute(
        select(
            epoch_seconds(SyncRun.started_at),
            epoch_seconds(SyncRun.completed_at),
            SyncRun.status == "completed",
        )
        .where(*of_sync, SyncRun.status.in_(("completed", "failed")), SyncRun.started_at >= since)
        .order_by(SyncRun.started_at, SyncRun.id)
    ).all()
    earlier = (*of_sync, SyncRun.started_at < since)
    prior_status = session.scalar(
        select(SyncRun.status)
        .where(*earlier, SyncRun.status.in_(("completed", "failed")))
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(1)
    )
    prior_success = session.scalar(
        select(func.max(epoch_seconds(SyncRun.completed_at))).where(
            *earlier, SyncRun.status == "completed"
        )
    )
    columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    return FinishedRuns(
        np.array(columns[0], dtype=np.int64),
        np.array(columns[1], dtype=np.int64),
        np.array(columns[2], dtype=bool),
        prior_status,
        prior_success,
    )


def inputs_at(runs: FinishedRuns, moment: int, interval: int | None) -> HealthInputs:
    """The score's facts at `moment` (epoch seconds), from the runs finished by then."""
    done = runs.completed <= moment
    week = done & (runs.started >= moment - SCORE_DAYS * DAY)
    half = moment - SCORE_DAYS * DAY // 2
    failed = done & ~runs.succeeded
    latest_finished = _last(done)
    finished_ok = (
        bool(runs.succeeded[latest_finished])
        if latest_finished is not None
        else None
        if runs.prior_status is None
        else runs.prior_status == "completed"
    )
    latest_duration, mean = _latency(runs, done & runs.succeeded)
    success_times = runs.completed[done & runs.succeeded]
    last_success = int(success_times.max()) if len(success_times) else runs.prior_success
    return HealthInputs(
        finished_runs_7d=int(week.sum()),
        completed_runs_7d=int((week & runs.succeeded).sum()),
        latest_finished_completed=finished_ok,
        failed_old=int(
            (failed & (runs.started >= moment - SCORE_DAYS * DAY) & (runs.started < half)).sum()
        ),
        failed_new=int((failed & (runs.started >= half) & (runs.started <= moment)).sum()),
        latest_duration_seconds=latest_duration,
        mean_duration_seconds=mean,
        expected_interval_seconds=interval,
        seconds_since_last_success=None if last_success is None else moment - last_success,
    )


def _last(mask: NDArrayBool) -> int | None:
    """The position of the last run (latest started_at, then id) the mask keeps."""
    found = np.flatnonzero(mask)
    return int(found[-1]) if len(found) else None


def _latency(runs: FinishedRuns, completed: NDArrayBool) -> tuple[int | None, Fraction | None]:
    latest = _last(completed)
    if latest is None:
        return None, None
    start = runs.started[latest]
    durations = runs.completed - runs.started
    history = completed & (runs.started >= start - LATENCY_HISTORY_DAYS * DAY)
    history &= runs.started < start
    count = int(history.sum())
    mean = Fraction(int(durations[history].sum()), count) if count else None
    return int(durations[latest]), mean


def score_history(
    runs: FinishedRuns,
    sync: Any,
    zone: ZoneInfo,
    window: dt.datetime,
    now: dt.datetime,
) -> list[ScorePoint]:
    """One point per local date from the window's first to today: the score at the end of
    the date (the next local midnight; now for today)."""
    points = []
    day = window.astimezone(zone).date()
    today = now.astimezone(zone).date()
    while day <= today:
        end = now if day == today else local_midnight_utc(day + dt.timedelta(days=1), zone)
        interval = expected_interval(sync.schedule, sync.sla_freshness_minutes, zone, end)
        inputs = inputs_at(runs, int(end.timestamp()), interval)
        points.append(ScorePoint(date=day, health_score=health(inputs, sync.status).score))
        day += dt.timedelta(days=1)
    return points
