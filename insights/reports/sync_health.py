"""Sync health: per-sync run counts, success rate, duration and rows over a window, and
each sync's health score (contract 5.1 and 8.1)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import TypeAdapter
from sqlalchemy import BigInteger, bindparam, select
from sqlalchemy.orm import Session

from insights import cycle_collector
from insights.models import Sync, SyncState
from insights.reports.common import (
    half_up_units_of_arrays,
    resolve_now,
    window_start,
    workspace_zone,
)
from insights.reports.health_batch import Ints, ScoreColumns, Scores
from insights.reports.health_inputs import (
    SCORE_DAYS,
    expected_interval,
    score_probe_columns,
    with_state,
)
from insights.reports.health_score import STATUSES, HealthComponents, HealthInputs
from insights.reports.run_totals import (
    Cutoff,
    WindowShape,
    window_parameters,
    with_window_sums,
)
from insights.reports.sql import driver_id, epoch_seconds
from insights.reports.sums import HALF_BITS
from insights.schemas.base import ResponseModel, example
from insights.types import EpochTimestamp

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
    last_run_at: EpochTimestamp | None
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
    # As sync_duration's: each sync's row, entry and score, and no garbage (at 10,000
    # syncs the collections their allocation set off were a sixth of the report).
    with cycle_collector.paused():
        found = _health(session, workspace_id, days=days, now=score_moment(now))
    statuses = found.column["status"]
    # Failing: active, and its latest finished run (of any age) failed.
    failing = {
        entry.sync_id
        for entry, status, latest in zip(
            found.entries, statuses, found.column["last_finished_status"], strict=True
        )
        if status == "active" and latest == "failed"
    }
    active = statuses.count("active")
    report = SyncHealthResponse(
        total_syncs=len(found.entries),
        active_syncs=active,
        healthy_syncs=active - len(failing),
        failing_syncs=len(failing),
        paused_syncs=statuses.count("paused"),
        health_statuses=status_counts(found.scores.statuses),
        syncs=found.entries,
    )
    return report, failing


class SyncHealthRow:
    """One sync's health: its row (with the score's probes; its `id` is the driver's, the
    entry's `sync_id` the UUID), entry and score inputs (made when asked: a sync-health
    answer scores from columns and reads none)."""

    __slots__ = ("_columns", "_position", "entry", "row")

    def __init__(self, row: Any, entry: SyncHealthEntry, columns: ScoreColumns, position: int):
        self.row, self.entry = row, entry
        self._columns, self._position = columns, position

    @property
    def inputs(self) -> HealthInputs:
        return self._columns.inputs(self._position)


def health_rows(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    days: int,
    now: datetime,
    sync_ids: list[uuid.UUID] | None = None,
) -> list[SyncHealthRow]:
    """The health of the syncs (those of `sync_ids`, else all), by name then ID."""
    found = _health(session, workspace_id, days=days, now=now, sync_ids=sync_ids)
    return [
        SyncHealthRow(row, entry, found.scores.columns, position)
        for position, (row, entry) in enumerate(zip(found.rows, found.entries, strict=True))
    ]


class _Health(NamedTuple):
    """The syncs' rows by name then ID, the same as columns (a tuple each), their entries
    and scores."""

    rows: list[Any]
    column: dict[str, tuple[Any, ...]]
    entries: list[SyncHealthEntry]
    scores: Scores


def _health(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    days: int,
    now: datetime,
    sync_ids: list[uuid.UUID] | None = None,
) -> _Health:
    """One statement reads each sync's row, state and sums over the window and the score's
    windows; then everything is computed a column at a time (health_batch), not a sync at
    a time: a thousand syncs cost a few milliseconds of Python."""
    zone = workspace_zone(session, workspace_id)
    week, half = now - timedelta(days=SCORE_DAYS), now - timedelta(days=SCORE_DAYS / 2)
    cutoffs = [
        Cutoff("window", window_start(now, days)),
        Cutoff("week", week, ("completed", "failed")),
        Cutoff("half", half, ("failed",)),
    ]
    parameters = window_parameters(cutoffs, now)
    parameters |= {"workspace_id": workspace_id, "now_epoch": int(now.timestamp())}
    if sync_ids is not None:
        parameters["sync_ids"] = sync_ids
    shape = WindowShape.of(session, cutoffs, some_syncs=sync_ids is not None, now=now)
    found = session.connection().execute(_statement(shape), parameters)
    keys = list(found.keys())
    # By name then ID (common.name_key's order): the IDs as the driver gives them sort as
    # UUIDs do (SQLite's 32 lowercase hex digits; PostgreSQL's UUIDs), and a key of row
    # positions is a C call per row where row attributes were a Python one.
    rows = sorted(found.all(), key=itemgetter(keys.index("name"), keys.index("id")))
    # Column by column from here: a tuple per column, numpy for the arithmetic.
    column = dict(zip(keys, zip(*rows, strict=True) if rows else ((),) * len(keys), strict=True))
    scores = Scores(_score_columns(column, zone, now), column["status"])
    # Validated as one list, in pydantic's core, rather than a model built per sync.
    return _Health(rows, column, _ENTRIES.validate_python(_entries(column, scores)), scores)


def _entries(column: dict[str, tuple[Any, ...]], scores: Scores) -> list[dict[str, Any]]:
    """The fields of each sync's SyncHealthEntry, from the query's columns and the scores."""
    completed, failed = _ints(column["window_completed"]), _ints(column["window_failed"])
    finished = completed + failed
    return [
        dict(
            sync_id=sync_id,
            sync_name=name,
            status=status,
            last_run_status=last_status,
            last_run_at=last_started_at,
            success_rate=rate,
            total_runs=total,
            failed_runs=failed_runs,
            avg_duration_seconds=mean,
            total_rows_synced=(rows_high << HALF_BITS) + rows_low,
            health_score=score,
            health_status=band,
            health_components=parts,
        )
        for (
            sync_id,
            name,
            status,
            last_status,
            last_started_at,
            rate,
            total,
            failed_runs,
            mean,
            rows_high,
            rows_low,
            score,
            band,
            parts,
        ) in zip(
            column["id"],
            column["name"],
            column["status"],
            column["last_status"],
            column["last_started_at"],
            [None if units is None else units / 100 for units in _half_up(completed, finished, 2)],
            finished.tolist(),
            column["window_failed"],
            # Every completed run has a completion time (the run table's check constraint).
            _half_up(_ints(column["window_duration_sum"]), completed, 0),
            column["window_rows_high"],
            column["window_rows_low"],
            scores.scores,
            scores.statuses,
            scores.components,
            strict=True,
        )
    ]


def _score_columns(
    column: dict[str, tuple[Any, ...]], zone: ZoneInfo, now: datetime
) -> ScoreColumns:
    """The score's inputs of every sync, as columns (contract 8.1), from the query's."""
    week_completed, week_failed = _ints(column["week_completed"]), _ints(column["week_failed"])
    half_failed, late_failed = _ints(column["half_failed"]), _ints(column["late_failed"])
    return ScoreColumns(
        finished_runs_7d=(week_completed + week_failed).tolist(),
        completed_runs_7d=week_completed.tolist(),
        latest_finished_completed=[
            None if status is None else status == "completed"
            for status in column["score_latest_finished"]
        ],
        failed_old=(week_failed - half_failed).tolist(),
        failed_new=(half_failed - late_failed).tolist(),
        latest_duration_seconds=column["latest_duration_seconds"],
        mean_duration_sum=column["mean_duration_sum"],
        mean_duration_count=column["mean_duration_count"],
        expected_interval_seconds=_intervals(
            column["schedule"], column["sla_freshness_minutes"], zone, now
        ),
        seconds_since_last_success=column["seconds_since_success"],
    )


def _intervals(
    schedules: Sequence[str | None], minutes: Sequence[int | None], zone: ZoneInfo, now: datetime
) -> list[int | None]:
    """Each sync's expected interval, worked out once per distinct (schedule, target): a
    thousand syncs share a few dozen schedules."""
    pairs = list(zip(schedules, minutes, strict=True))
    known = {pair: expected_interval(*pair, zone, now) for pair in set(pairs)}
    return [known[pair] for pair in pairs]


def _ints(values: Sequence[int]) -> Ints:
    """Counts and sums (far inside an int64: the rollups' own bigints) as an array."""
    return np.array(values, dtype=np.int64)


def _half_up(top: Ints, bottom: Ints, places: int) -> list[int | None]:
    """round_half_up's units of each pair (top, bottom >= 0): None for bottom 0."""
    units = half_up_units_of_arrays(top, np.maximum(bottom, 1), places)
    return [
        None if below == 0 else unit
        for unit, below in zip(units.tolist(), bottom.tolist(), strict=True)
    ]


_ENTRIES = TypeAdapter(list[SyncHealthEntry])


def score_moment(now: datetime | None) -> datetime:
    """The moment a score is computed at: the request's time, to the whole second (as every
    stored timestamp is), so that its arithmetic stays exact."""
    return resolve_now(now).replace(microsecond=0)


def status_counts(statuses: Iterable[str]) -> HealthStatuses:
    counted = Counter(statuses)
    return HealthStatuses(**{status: counted[status] for status in STATUSES})


def _statement(shape: WindowShape) -> Any:
    """sync-health's one statement for `shape`, built once per shape (a handful: the
    dialect, whether syncs are picked, how the windows' edges fall) and then reused with new
    parameters, which also spares SQLAlchemy its cache key: a few milliseconds a request."""
    statement = _STATEMENTS.get(shape)
    if statement is None:
        statement = _STATEMENTS[shape] = with_window_sums(_syncs_query(shape.some_syncs), shape)
    return statement


_STATEMENTS: dict[WindowShape, Any] = {}


def _syncs_query(some_syncs: bool) -> Any:
    """Each sync's row, state and score probes; bound: workspace_id, now_epoch, sync_ids."""
    now = bindparam("now_epoch", type_=BigInteger)
    since_success = now - epoch_seconds(SyncState.last_success_at)
    # The ID and the last run's time as the driver and the database give them: pydantic
    # makes the entry's UUID and datetime from them in its own code, where SQLAlchemy's
    # result processors were a Python call per sync each.
    query = select(
        driver_id(Sync.id).label("id"),
        Sync.name,
        Sync.status,
        SyncState.last_status,
        epoch_seconds(SyncState.last_started_at).label("last_started_at"),
        # Failing is judged on finished runs of any age, not only the window's.
        SyncState.last_finished_status,
        Sync.kind,
        *score_probe_columns(),
        since_success.label("seconds_since_success"),
    ).where(Sync.workspace_id == bindparam("workspace_id"))
    query = with_state(query)
    return query.where(Sync.id.in_(bindparam("sync_ids", expanding=True))) if some_syncs else query
