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
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.errors import NotFound
from insights.models import Workspace, WorkspaceZone
from insights.reports.common import day_date, utc_offsets
from insights.reports.day_lists import LISTED, Lists, cut_day_lists, rollup_lists
from insights.reports.run_series import Days, Ints, LocalDays, RunSeries, completed_runs
from insights.reports.sql import parse_int_lists
from insights.reports.sums import HALF_BITS

DAY_SECONDS = 86400
# A zone's offset moves by hours at most: two days either side of a window's start hold
# every piece that can put a run on the start's local day.
AROUND = timedelta(days=2)
EMPTY_INTS = np.empty(0, np.int64)


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

    def dates(self) -> list[date]:
        return [_date_of(number) for number in self.days]


@lru_cache(maxsize=4096)
def _date_of(number: int) -> date:
    """A day number's date, memoised: 1,000 syncs share the same 30 dates."""
    return day_date(number)


EMPTY = DaySeries([], [], [], [], [], [], EMPTY_INTS)


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
    last, whole_from = cut_day(zone, start)
    lists = rollup_lists(session, workspace_id, sync_ids, last)
    if whole_from <= start:
        return _parsed(lists)
    if _on_one_day(zone, start, whole_from, last):
        cut = cut_day_lists(session, workspace_id, sync_ids, last, start, whole_from)
        return _parsed(_prepended(cut, lists))
    # The cut spans local dates (a clock set back across midnight): grouped run by run.
    series = _parsed(lists)
    edge = completed_runs(session, workspace_id, sync_ids, start, before=whole_from)
    days_of = LocalDays.of(zone, start, whole_from)
    for sync_id, found in edge.items():
        first = DaySeries.of_runs(found, days_of, through=last)
        series[sync_id] = first.then(series.get(sync_id, EMPTY))
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


def _prepended(
    first: dict[uuid.UUID, Lists], later: dict[uuid.UUID, Lists]
) -> dict[uuid.UUID, Lists]:
    """Per sync, the lists of `first` (one earlier day) before those of `later`, as text."""
    joined = dict(later)
    for sync_id, lists in first.items():
        after = later.get(sync_id)
        joined[sync_id] = (
            lists if after is None else [f"{a},{b}" for a, b in zip(lists, after, strict=True)]
        )
    return joined


def _parsed(lists: dict[uuid.UUID, Lists]) -> dict[uuid.UUID, DaySeries]:
    """The lists parsed in one numpy pass over every sync (the per-day columns line up, so
    they parse as one array), then cut into each sync's part as Python lists."""
    keys = list(lists)
    counts = [lists[key][0].count(",") + 1 for key in keys]
    per_day = len(LISTED) - 1
    joined = ",".join(text for n in range(per_day) for text in (lists[k][n] for k in keys))
    flat = np.fromstring(joined, dtype=np.int64, sep=",") if keys else EMPTY_INTS
    days, runs, sums, maxes, timed, highs, lows = flat.reshape(per_day, -1)
    in_order = _in_day_order(days, counts)
    rows = (highs << HALF_BITS) + lows if int(highs.max(initial=0)) < 2**30 else None
    columns = [values.tolist() for values in (days, runs, sums, maxes, timed)]
    columns.append(
        rows.tolist()
        if rows is not None
        else [(h << HALF_BITS) + low for h, low in zip(highs.tolist(), lows.tolist(), strict=True)]
    )
    durations = parse_int_lists([lists[key][-1] for key in keys])
    series = {}
    end = 0
    for n, key in enumerate(keys):
        begin, end = end, end + counts[n]
        found = DaySeries.of_lists([values[begin:end] for values in columns], durations[n])
        series[key] = found if in_order else _ordered(found)
    return series


def _in_day_order(days: Ints, counts: list[int]) -> bool:
    """Whether each sync's days ascend (a fall can only come where a sync's part begins)."""
    falls = np.flatnonzero(days[1:] <= days[:-1]) + 1
    return bool(np.isin(falls, np.cumsum(counts)).all())


def _ordered(series: DaySeries) -> DaySeries:
    """The series in day order, if its lists came otherwise (SQLite lists a group in its
    scan's order, which is the key's, but does not promise it)."""
    days = series.days
    if all(earlier < later for earlier, later in pairwise(days)):
        return series
    order = sorted(range(len(days)), key=days.__getitem__)
    lists = [[values[n] for n in order] for values in series.lists()]
    return DaySeries.of_lists(lists, series.durations)
