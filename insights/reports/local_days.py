"""Per sync, the completed runs of a window by local date (the workspace's zone), for
sync-duration and sync-throughput: the days the window holds whole are read from the
local-day rollups (sync_local_days, kept by triggers, migration 0010), the first local
date, which the window's start cuts, from its runs. So a window costs O(syncs x days), not
O(runs), and stays exact: the rollups hold every duration, and the cut day is read from
the runs. If the rollups are not kept in the workspace's zone (only after a zone changed
behind the ORM, see insights.zones), every run is read, as before."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.errors import NotFound
from insights.models import Workspace, WorkspaceZone
from insights.reports import day_columns
from insights.reports.common import utc_offsets
from insights.reports.day_columns import EMPTY_INTS, DayColumns, exact_rows, parsed, prepended
from insights.reports.day_lists import LISTED, cut_day_lists, rollup_lists
from insights.reports.run_series import Days, Ints, LocalDays, RunSeries, completed_runs

DAY_SECONDS = 86400
# A zone's offset moves by hours at most: two days either side of a window's start hold
# every piece that can put a run on the start's local day.
AROUND = timedelta(days=2)
# DaySeries.lists() as columns of day_columns.DayColumns.
SERIES = ("day", "runs", "duration_sum", "duration_max", "timed_runs", "timed_rows")


@dataclass(frozen=True)
class DaySeries:
    """One sync's window per local date, ascending: its completed runs, their duration sum
    and maximum, those of them that took time (duration above 0: the runs throughput
    rates) and their rows synced; and every duration of the window, in no order. Python
    lists per day (each value goes into a dict of the answer), numpy for the durations."""

    days: list[int]  # days since 1970-01-01
    runs: list[int]
    duration_sums: list[int]
    duration_maxes: list[int]
    timed_runs: list[int]
    timed_rows: list[int]  # a day's rows can pass 2**63
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
            days.numbers.tolist(),
            days.counts.tolist(),
            days.sums(runs.durations),
            days.maxima(runs.durations),
            days.sums(timed.astype(np.int64)),
            days.sums(np.where(timed, runs.rows, 0)),
            runs.durations,
        )

    @classmethod
    def of_lists(cls, lists: Sequence[list[int]], durations: Ints) -> DaySeries:
        """From its per-day lists, in the order of `lists()`."""
        days, runs, sums, maxes, timed, rows = lists
        return cls(days, runs, sums, maxes, timed, rows, durations)

    def lists(self) -> list[list[int]]:
        return [
            self.days,
            self.runs,
            self.duration_sums,
            self.duration_maxes,
            self.timed_runs,
            self.timed_rows,
        ]

    def then(self, later: DaySeries) -> DaySeries:
        """This series followed by one of later days."""
        lists = [mine + theirs for mine, theirs in zip(self.lists(), later.lists(), strict=True)]
        return DaySeries.of_lists(lists, np.concatenate([self.durations, later.durations]))


EMPTY = DaySeries([], [], [], [], [], [], EMPTY_INTS)


def window_columns(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    start: datetime,
    now: datetime,
    names: Sequence[str],
) -> DayColumns:
    """Per sync (those given, or every one; syncs with none are absent), its completed runs
    started at or after `start` by local day, as flat columns: those of `names` (of
    day_lists.LISTED, "day" first, "durations" last if wanted), so that a report reads only
    the lists it shows. Keyed by sql.driver_id(Sync.id)."""
    zone, kept = _zones(session, workspace_id)
    if not kept:
        runs = completed_runs(session, workspace_id, sync_ids, start)
        days_of = LocalDays.of(zone, start, now)
        series = {sync_id: DaySeries.of_runs(found, days_of) for sync_id, found in runs.items()}
        return _columns(series)
    last, whole_from = cut_day(zone, start)
    if whole_from > start and not _on_one_day(zone, start, whole_from, last):
        # The cut spans local dates (a clock set back across midnight): grouped run by run.
        return _columns(_grouped_cut(session, workspace_id, sync_ids, zone, start, last))
    with_durations = names[-1] == "durations"
    lists = rollup_lists(session, workspace_id, sync_ids, last, names)
    later = parsed(lists, names, with_durations)
    if whole_from <= start:
        return later
    rows = "timed_rows_high" in names
    cut = cut_day_lists(session, workspace_id, sync_ids, start, whole_from, rows)
    return prepended(day_columns.cut_day(cut, last, names), later)


def _grouped_cut(
    session: Session,
    workspace_id: uuid.UUID,
    sync_ids: Sequence[uuid.UUID] | None,
    zone: ZoneInfo,
    start: datetime,
    last: int,
) -> dict[Any, DaySeries]:
    """The rollups' days after `last`, after the window's runs of the days up to `last`
    grouped run by run (read from `start` to the first moment on a later day)."""
    whole_from = cut_day(zone, start)[1]
    series = _series(parsed(rollup_lists(session, workspace_id, sync_ids, last), LISTED, True))
    edge = completed_runs(session, workspace_id, sync_ids, start, before=whole_from)
    days_of = LocalDays.of(zone, start, whole_from)
    for sync_id, found in edge.items():
        first = DaySeries.of_runs(found, days_of, through=last)
        series[sync_id] = first.then(series.get(sync_id, EMPTY))
    return series


def _columns(series: dict[Any, DaySeries]) -> DayColumns:
    per_key = {key: found.lists() for key, found in series.items()}
    return DayColumns.of_lists(per_key, SERIES, [found.durations for found in series.values()])


def _series(found: DayColumns) -> dict[Any, DaySeries]:
    lists = {name: found.columns[name].tolist() for name in SERIES[:-1]}
    lists["timed_rows"] = exact_rows(found.columns)
    bounds = found.bounds.tolist()
    durations = found.durations or [EMPTY_INTS] * len(found.keys)
    return {
        key: DaySeries.of_lists(
            [lists[name][bounds[n] : bounds[n + 1]] for name in SERIES], durations[n]
        )
        for n, key in enumerate(found.keys)
    }


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


def _on_one_day(zone: ZoneInfo, low: datetime, high: datetime, day: int) -> bool:
    """Whether every moment of [low, high) is on local `day`."""
    pieces = utc_offsets(zone, low, high)
    ends = [begin for begin, _ in pieces[1:]] + [int(high.timestamp())]
    first = int(low.timestamp())
    for (begin, offset), end in zip(pieces, ends, strict=True):
        begin = max(begin, first)
        if (
            begin < end
            and not (begin + offset) // DAY_SECONDS == (end - 1 + offset) // DAY_SECONDS == day
        ):
            return False
    return True
