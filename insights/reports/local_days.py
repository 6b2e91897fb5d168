"""Per sync, the completed runs of a window by local date (the workspace's zone), for
sync-duration and sync-throughput: the days the window holds whole are read from the
local-day rollups (sync_local_days, kept by triggers, migration 0010), the runs of the
first local date, which the window's start cuts, one by one. So a window costs
O(syncs x days), not O(runs), and stays exact: the rollups hold every duration, and the
cut day is read from the runs. If the rollups are not kept in the workspace's zone (only
after a zone changed behind the ORM, see insights.zones), every run is read, as before."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import and_, select, true
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.errors import NotFound
from insights.models import Sync, SyncLocalDay, Workspace, WorkspaceZone
from insights.reports.common import day_date, utc_offsets
from insights.reports.run_series import Days, Ints, LocalDays, RunSeries, completed_runs
from insights.reports.sql import aligned_int_list, int_list, parse_int_lists

DAY_SECONDS = 86400
HALF_BITS = 32
# A zone's offset moves by hours at most: two days either side of a window's start hold
# every piece that can put a run on the start's local day.
AROUND = timedelta(days=2)
EMPTY_INTS = np.empty(0, np.int64)


@dataclass(frozen=True)
class DaySeries:
    """One sync's window per local date, ascending: its completed runs, their duration sum
    and maximum, those of them that took time (duration above 0: the runs throughput
    rates) and their rows synced; and every duration of the window, in no order."""

    days: Ints  # days since 1970-01-01
    runs: Ints
    duration_sums: Ints
    duration_maxes: Ints
    timed_runs: Ints
    timed_rows: list[int]  # Python ints: a day's rows can pass 2**63
    durations: Ints

    @classmethod
    def of_runs(cls, runs: RunSeries, days_of: LocalDays, through: int | None = None) -> DaySeries:
        """Runs grouped by day (only the days up to `through`, if given)."""
        local = days_of(runs.started)
        if through is not None:
            kept = local <= through
            local = local[kept]
            runs = RunSeries(runs.started[kept], runs.durations[kept], runs.rows[kept])
        days = Days.group(local)
        timed = runs.durations > 0
        return cls(
            days.numbers,
            days.counts.astype(np.int64),
            np.array(days.sums(runs.durations), np.int64),
            np.array(days.maxima(runs.durations), np.int64),
            np.array(days.sums(timed.astype(np.int64)), np.int64),
            days.sums(np.where(timed, runs.rows, 0)),
            runs.durations,
        )

    def then(self, later: DaySeries) -> DaySeries:
        """This series followed by one of later days."""

        def joined(name: str) -> Ints:
            return np.concatenate([getattr(self, name), getattr(later, name)])

        return DaySeries(
            joined("days"),
            joined("runs"),
            joined("duration_sums"),
            joined("duration_maxes"),
            joined("timed_runs"),
            self.timed_rows + later.timed_rows,
            joined("durations"),
        )

    def dates(self) -> list[Any]:
        return [day_date(int(number)) for number in self.days]


EMPTY = DaySeries(EMPTY_INTS, EMPTY_INTS, EMPTY_INTS, EMPTY_INTS, EMPTY_INTS, [], EMPTY_INTS)


def window_days(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    start: datetime,
    now: datetime,
) -> dict[uuid.UUID, DaySeries]:
    """Per sync (those given, or every one), its completed runs started at or after
    `start`; syncs with none are absent."""
    zone, kept = _zones(session, workspace_id)
    if not kept:
        runs = completed_runs(session, workspace_id, sync_ids, start)
        days_of = LocalDays.of(zone, start, now)
        return {sync_id: DaySeries.of_runs(found, days_of) for sync_id, found in runs.items()}
    last_cut, whole_from = cut_day(zone, start)
    series = _rollups(session, workspace_id, sync_ids, last_cut)
    if whole_from > start:
        edge = completed_runs(session, workspace_id, sync_ids, start, before=whole_from)
        days_of = LocalDays.of(zone, start, whole_from)
        for sync_id, found in edge.items():
            cut = DaySeries.of_runs(found, days_of, through=last_cut)
            series[sync_id] = cut.then(series.get(sync_id, EMPTY))
    return series


def cut_day(zone: ZoneInfo, start: datetime) -> tuple[int, datetime]:
    """(last, whole_from): every moment before `start` is on a local day up to `last`, and
    every moment from `whole_from` on is on a later one. So the rollups of the days after
    `last` hold only runs of the window, and the window's other runs started in
    [start, whole_from). Usually `last` is start's day and `whole_from` the next midnight;
    a clock set back across midnight is why it is computed, not assumed."""
    second = int(start.timestamp())
    pieces = utc_offsets(zone, start - AROUND, start + AROUND)
    begins = [begin for begin, _ in pieces]
    ends = [*begins[1:], None]
    latest = second - 1 + pieces[int(np.searchsorted(begins, second - 1, "right")) - 1][1]
    for (begin, _), (_, offset_before) in zip(pieces[1:], pieces, strict=False):
        if begin <= second:  # the last second before a change
            latest = max(latest, begin - 1 + offset_before)
    last = latest // DAY_SECONDS
    midnight = (last + 1) * DAY_SECONDS
    whole_from = second
    for (begin, offset), end in zip(pieces, ends, strict=True):
        top = midnight - offset if end is None else min(end, midnight - offset)
        if top > max(begin, second):
            whole_from = max(whole_from, top)
    return last, datetime.fromtimestamp(whole_from, UTC)


def _zones(session: Session, workspace_id: uuid.UUID) -> tuple[ZoneInfo, bool]:
    """The workspace's zone, and whether its local-day rollups are kept in it."""
    query = (
        select(Workspace.timezone, WorkspaceZone.timezone)
        .outerjoin(WorkspaceZone, WorkspaceZone.workspace_id == Workspace.id)
        .where(Workspace.id == workspace_id)
    )
    found = session.execute(query).first()
    if found is None:
        raise NotFound(f"Workspace {workspace_id} does not exist.")
    return ZoneInfo(found[0]), found[0] == found[1]


def _rollups(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    after: int,
) -> dict[uuid.UUID, DaySeries]:
    """Per sync, its local days after `after`, as lists: one row per sync, not per day.

    Both forms loop over the syncs and range-scan each one's days in the key's order.
    SQLite picks that plan for a join; PostgreSQL gets LATERAL (as run_totals does)."""
    day = SyncLocalDay.day
    columns: list[Any] = [
        aligned_int_list(getattr(SyncLocalDay, name), day)
        for name in ("day", "runs", "duration_sum", "duration_max", "timed_runs")
    ]
    columns += [
        aligned_int_list(SyncLocalDay.timed_rows_high, day),
        aligned_int_list(SyncLocalDay.timed_rows_low, day),
        int_list(SyncLocalDay.durations),
    ]
    scanned = (
        SyncLocalDay.workspace_id == Sync.workspace_id,
        SyncLocalDay.sync_id == Sync.id,
        day > after,
    )
    if is_sqlite(session):
        query = select(Sync.id, *columns).join(SyncLocalDay, and_(*scanned)).group_by(Sync.id)
    else:
        per_sync = select(*(column.label(f"c{n}") for n, column in enumerate(columns)))
        lateral = per_sync.where(*scanned).lateral()
        query = select(Sync.id, *lateral.c).join(lateral, true())
    query = query.where(Sync.workspace_id == workspace_id)
    if sync_ids is not None:
        query = query.where(Sync.id.in_(list(sync_ids)))
    found = [row for row in session.execute(query) if row[1] is not None]
    lists = [parse_int_lists([row[n] for row in found]) for n in range(1, 9)]
    return {row[0]: _series(*(values[n] for values in lists)) for n, row in enumerate(found)}


def _series(
    days: Ints,
    runs: Ints,
    sums: Ints,
    maxes: Ints,
    timed: Ints,
    rows_high: Ints,
    rows_low: Ints,
    durations: Ints,
) -> DaySeries:
    order = np.argsort(days, kind="stable")  # SQLite's lists line up, in the scan's order
    rows = [
        (high << HALF_BITS) + low
        for high, low in zip(rows_high.tolist(), rows_low.tolist(), strict=True)
    ]
    return DaySeries(
        days[order],
        runs[order],
        sums[order],
        maxes[order],
        timed[order],
        [rows[n] for n in order.tolist()],
        durations,
    )
