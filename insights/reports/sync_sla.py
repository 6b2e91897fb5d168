"""SLA compliance (contract 8.4): how much of a window each sync with targets was fresh
(a completed run within its freshness target), how many of its runs kept within its
duration target, and whether it is in breach now."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from insights.models import Sync, SyncRun, SyncState
from insights.reports.common import by_name, round_half_up, window_start
from insights.reports.health_inputs import score_probe_columns, with_state
from insights.reports.run_series import Ints
from insights.reports.sql import duration_seconds, epoch_seconds, int_list, parse_int_lists
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


@dataclass(frozen=True)
class Freshness:
    """A freshness target over a window: the seconds it was met, the separate stale
    stretches that overlap the window, and when the current one began (if stale now)."""

    fresh_seconds: int
    breaches: int
    stale_now: bool
    stale_since: int | None  # epoch seconds


def freshness(completions: Ints, target: int, start: int, end: int, last: int | None) -> Freshness:
    """At t the sync is fresh when a completion lies in [t - target, t]: the fresh time is
    the union of [c, c + target] over completions c (sorted, none after `end`), and stale
    stretches are the open gaps around it. `last` is the latest completion at any time."""
    fresh, breaches, covered_until = 0, 0, None
    for begin, finish in _merged(completions, target):
        gap_start = -np.inf if covered_until is None else covered_until
        if gap_start < end and begin > start:
            breaches += 1  # the stale gap before this fresh stretch overlaps the window
        fresh += max(0, min(finish, end) - max(begin, start))
        covered_until = finish
    stale_now = covered_until is None or covered_until < end
    if stale_now:
        breaches += 1  # the stretch that runs to the end of the window
    since = None if not stale_now or last is None else last + target
    return Freshness(fresh, breaches, stale_now, since)


def _merged(completions: Ints, target: int) -> list[tuple[int, int]]:
    stretches: list[tuple[int, int]] = []
    for moment in np.sort(completions).tolist():
        if stretches and moment <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], moment + target)
        else:
            stretches.append((moment, moment + target))
    return stretches


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
    query = _syncs_query(workspace_id, start, include_paused)
    if sync_ids is not None:
        query = query.where(Sync.id.in_(sync_ids))
    syncs = by_name(session.execute(query))
    completions = _completions(session, workspace_id, syncs, start, now)
    entries = [_entry(row, completions.get(row.id), start, now) for row in syncs]
    breached = sum(1 for entry in entries if entry.state == "breached")
    return SyncSlaResponse(
        syncs_with_sla=len(entries),
        syncs_met=len(entries) - breached,
        syncs_breached=breached,
        syncs=entries,
    )


def _syncs_query(workspace_id: uuid.UUID, start: dt.datetime, include_paused: bool) -> Any:
    duration = duration_seconds(SyncRun.started_at, SyncRun.completed_at)
    counted = _runs_of_sync(SyncRun.status == "completed", SyncRun.started_at >= start)
    over = case((duration > Sync.sla_duration_seconds, 1), else_=0)
    query = select(
        Sync.id,
        Sync.name,
        Sync.sla_freshness_minutes,
        Sync.sla_duration_seconds,
        counted.add_columns(func.count()).correlate(Sync).scalar_subquery().label("runs"),
        counted.add_columns(func.sum(over)).correlate(Sync).scalar_subquery().label("over"),
        SyncState.last_success_at,
        *score_probe_columns(),
    ).where(
        Sync.workspace_id == workspace_id,
        true() if include_paused else Sync.status != "paused",
        or_(Sync.sla_freshness_minutes.is_not(None), Sync.sla_duration_seconds.is_not(None)),
    )
    return with_state(query)


def _runs_of_sync(*conditions: Any) -> Any:
    return select().where(
        SyncRun.workspace_id == Sync.workspace_id, SyncRun.sync_id == Sync.id, *conditions
    )


def _completions(
    session: Session, workspace_id: uuid.UUID, syncs: list[Any], start: dt.datetime, now: Any
) -> dict[uuid.UUID, Ints]:
    """Completion times (epoch seconds) of the syncs with a freshness target that can
    make part of the window fresh: from the window start less the target, up to now."""
    targets = {row.id: row.sla_freshness_minutes for row in syncs if row.sla_freshness_minutes}
    if not targets:
        return {}
    earliest = start - timedelta(minutes=max(targets.values()))
    query = (
        select(SyncRun.sync_id, int_list(epoch_seconds(SyncRun.completed_at)))
        .where(
            SyncRun.workspace_id == workspace_id,
            SyncRun.sync_id.in_(list(targets)),
            SyncRun.status == "completed",
            and_(SyncRun.completed_at >= earliest, SyncRun.completed_at <= now),
        )
        .group_by(SyncRun.sync_id)
    )
    found = session.execute(query).all()
    lists = parse_int_lists([row[1] for row in found])
    return {row[0]: values for row, values in zip(found, lists, strict=True)}


def _entry(row: Any, completions: Ints | None, start: dt.datetime, now: dt.datetime) -> SyncSla:
    fresh = _freshness(row, completions, start, now)
    duration_limit = row.sla_duration_seconds
    runs = int(row.runs) if duration_limit else None
    over = int(row.over or 0) if duration_limit else None
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
        stale_since=None
        if fresh is None or fresh.stale_since is None
        else dt.datetime.fromtimestamp(fresh.stale_since, dt.UTC),
        duration_runs=runs,
        duration_breaches=over,
        duration_compliance_percent=None
        if not runs or over is None
        else round_half_up((runs - over) * 100, runs, 1),
    )


def _freshness(
    row: Any, completions: Ints | None, start: dt.datetime, now: dt.datetime
) -> Freshness | None:
    if not row.sla_freshness_minutes:
        return None
    last = None if row.last_success_at is None else int(row.last_success_at.timestamp())
    found = completions if completions is not None else np.empty(0, np.int64)
    target = row.sla_freshness_minutes * 60
    return freshness(found, target, int(start.timestamp()), int(now.timestamp()), last)


def _latest_duration(row: Any) -> int:
    return 0 if row.latest_duration_seconds is None else int(row.latest_duration_seconds)


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())
