"""SLA compliance (contract 8.4): how much of a window each sync with targets was fresh
(a completed run within its freshness target), how many of its runs kept within its
duration target, and whether it is in breach now. The runs and their durations come from
the local-day rollups (reports.local_days), the completion times from one index range per
sync (reports.freshness), the latest runs from the syncs' state rows: O(syncs x days) but
for the completions of the window, which are read from the index alone."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from insights.models import Sync, SyncState
from insights.reports.common import by_name, round_half_up, window_start
from insights.reports.day_columns import EMPTY_INTS
from insights.reports.freshness import Freshness, completion_times, freshness
from insights.reports.health_inputs import score_probe_columns, with_state
from insights.reports.local_days import window_columns
from insights.reports.run_series import Ints
from insights.reports.sql import driver_id
from insights.reports.sync_health import score_moment
from insights.schemas.base import ResponseModel, example
from insights.types import ID, OutTimestamp


class SyncSla(ResponseModel):
    sync_id: ID
    sync_name: str
    sla_freshness_minutes: int | None
    sla_duration_seconds: int | None
    state: str
    freshness_compliance_percent: float | None
    freshness_breaches: int | None
    stale_since: OutTimestamp | None
    duration_runs: int | None
    duration_breaches: int | None
    duration_compliance_percent: float | None


class SyncSlaResponse(ResponseModel):
    model_config = example(
        {
            "syncs_with_sla": 4,
            "syncs_met": 3,
            "syncs_breached": 1,
            "syncs": [
                {
                    "sync_id": "6f1c2f0e-4a55-4c1e-9d7e-0a8f0d1e2b3c",
                    "sync_name": "Customers to Salesforce",
                    "sla_freshness_minutes": 360,
                    "sla_duration_seconds": 600,
                    "state": "breached",
                    "freshness_compliance_percent": 97.2,
                    "freshness_breaches": 1,
                    "stale_since": "2024-01-15T09:00:00Z",
                    "duration_runs": 28,
                    "duration_breaches": 2,
                    "duration_compliance_percent": 92.9,
                }
            ],
        }
    )

    syncs_with_sla: int
    syncs_met: int
    syncs_breached: int
    syncs: list[SyncSla]


def sync_sla(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    days: int,
    now: dt.datetime | None = None,
    sync_ids: list[uuid.UUID] | None = None,
    include_paused: bool = False,
) -> SyncSlaResponse:
    """Every sync that is not paused and has a target, by name then ID (of `sync_ids`
    only, if given; paused ones too if asked: a sync's detail page shows its SLA)."""
    now = score_moment(now)
    start = window_start(now, days)
    query = _syncs_query(workspace_id, include_paused)
    if sync_ids is not None:
        query = query.where(Sync.id.in_(sync_ids))
    syncs = by_name(session.execute(query))
    durations = _window_durations(session, workspace_id, syncs, start, now)
    fresh = _freshness(session, workspace_id, syncs, start, now)
    entries = [
        _entry(row, fresh.get(row.id), durations.get(row.key, EMPTY_INTS), start, now)
        for row in syncs
    ]
    breached = sum(1 for entry in entries if entry.state == "breached")
    return SyncSlaResponse(
        syncs_with_sla=len(entries),
        syncs_met=len(entries) - breached,
        syncs_breached=breached,
        syncs=entries,
    )


def _window_durations(
    session: Session, workspace_id: uuid.UUID, syncs: list[Any], start: dt.datetime, now: Any
) -> dict[Any, Ints]:
    """Every duration of the window's completed runs of each sync with a duration target
    (keyed by sql.driver_id): the local-day rollups' lists of durations alone."""
    timed = [row.id for row in syncs if row.sla_duration_seconds]
    if not timed:
        return {}
    found = window_columns(session, workspace_id, timed, start, now, ("day", "durations"))
    return dict(zip(found.keys, found.durations or [], strict=True))


def _syncs_query(workspace_id: uuid.UUID, include_paused: bool) -> Any:
    query = select(
        Sync.id,
        driver_id(Sync.id).label("key"),
        Sync.name,
        Sync.sla_freshness_minutes,
        Sync.sla_duration_seconds,
        SyncState.last_success_at,
        *score_probe_columns(),
    ).where(
        Sync.workspace_id == workspace_id,
        true() if include_paused else Sync.status != "paused",
        or_(Sync.sla_freshness_minutes.is_not(None), Sync.sla_duration_seconds.is_not(None)),
    )
    return with_state(query)


def _freshness(
    session: Session, workspace_id: uuid.UUID, syncs: list[Any], start: dt.datetime, now: Any
) -> dict[uuid.UUID, Freshness]:
    """Per sync with a freshness target, its freshness over the window."""
    targets = {row.id: row.sla_freshness_minutes * 60 for row in syncs if row.sla_freshness_minutes}
    found = completion_times(session, workspace_id, targets, start, now)
    completions = [found.get(sync_id, EMPTY_INTS) for sync_id in targets]
    window = (int(start.timestamp()), int(now.timestamp()))
    return dict(zip(targets, freshness(completions, list(targets.values()), *window), strict=True))


def _entry(
    row: Any, fresh: Freshness | None, durations: Ints, start: dt.datetime, now: dt.datetime
) -> SyncSla:
    duration_limit = row.sla_duration_seconds
    runs = len(durations) if duration_limit else None
    over = int(np.count_nonzero(durations > duration_limit)) if duration_limit else None
    too_long = bool(duration_limit and _latest_duration(row) > duration_limit)
    return SyncSla(
        sync_id=row.id,
        sync_name=row.name,
        sla_freshness_minutes=row.sla_freshness_minutes,
        sla_duration_seconds=duration_limit,
        state="breached" if (fresh and fresh.stale_now) or too_long else "met",
        freshness_compliance_percent=None
        if fresh is None
        else round_half_up(fresh.fresh_seconds * 100, _seconds(now - start), 1),
        freshness_breaches=None if fresh is None else fresh.breaches,
        stale_since=_stale_since(row, fresh),
        duration_runs=runs,
        duration_breaches=over,
        duration_compliance_percent=None
        if not runs or over is None
        else round_half_up((runs - over) * 100, runs, 1),
    )


def _stale_since(row: Any, fresh: Freshness | None) -> dt.datetime | None:
    """When stale now, the latest completion (any time) plus the target; else None."""
    if fresh is None or not fresh.stale_now or row.last_success_at is None:
        return None
    last = int(row.last_success_at.timestamp())
    return dt.datetime.fromtimestamp(last + row.sla_freshness_minutes * 60, dt.UTC)


def _latest_duration(row: Any) -> int:
    return 0 if row.latest_duration_seconds is None else int(row.latest_duration_seconds)


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())
