"""Every sync's local days of a window as flat numpy columns, one sync after another (the
form sync-duration and sync-throughput compute in: one numpy operation for a column of
every sync, not one Python list per sync and column); parsed from reports.day_lists'
texts, and the window's cut first day put before the rollups' days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

import numpy as np

from insights.reports.common import day_date
from insights.reports.run_series import Ints, segment_sums
from insights.reports.sql import parse_int_lists
from insights.reports.sums import HALF_BITS, LOW_MASK

EMPTY_INTS = np.empty(0, np.int64)


@dataclass(frozen=True)
class DayColumns:
    """Sync n (of `keys`: sql.driver_id) has rows bounds[n] to bounds[n + 1] of each column
    (at least one), its local days ascending; the columns named as in day_lists.LISTED.
    `durations`: per sync, every duration of its window, in no order (None if not read)."""

    keys: list[Any]
    bounds: Ints
    columns: dict[str, Ints]
    durations: list[Ints] | None

    @classmethod
    def of_lists(
        cls,
        per_key: Mapping[Any, Sequence[list[int]]],
        names: Sequence[str],
        durations: list[Ints] | None,
    ) -> DayColumns:
        """From per-sync Python lists of the columns `names` ("timed_rows" whole, not
        halved: a day's rows can pass 2**63)."""
        keys = list(per_key)
        counts = [len(per_key[key][0]) for key in keys]
        columns: dict[str, Ints] = {}
        for n, name in enumerate(names):
            values = [value for key in keys for value in per_key[key][n]]
            if name == "timed_rows":
                columns["timed_rows_high"] = np.array([v >> HALF_BITS for v in values], np.int64)
                columns["timed_rows_low"] = np.array([v & LOW_MASK for v in values], np.int64)
            else:
                columns[name] = np.array(values, np.int64)
        return cls(keys, _bounds(counts), columns, durations)

    def dates(self) -> list[date]:
        """The date of every row."""
        days = self.columns["day"]
        if not len(days):
            return []
        # Each date made once: a window's days are few (a run dated far ahead is in it too).
        numbers, at = np.unique(days, return_inverse=True)
        table = [day_date(number) for number in numbers.tolist()]
        return list(map(table.__getitem__, at.tolist()))

    def parts(self) -> list[tuple[int, int]]:
        """(begin, end) of each sync's rows."""
        return list(pairwise(self.bounds.tolist()))


def exact_rows(columns: dict[str, Ints]) -> list[int]:
    """The timed rows of each day, from their 32-bit halves, as exact Python integers."""
    highs, lows = columns["timed_rows_high"], columns["timed_rows_low"]
    joined = joined_rows(highs, lows)
    if joined is not None:
        listed: list[int] = joined.tolist()
        return listed
    return [(h << HALF_BITS) + low for h, low in zip(highs.tolist(), lows.tolist(), strict=True)]


def joined_rows(highs: Ints, lows: Ints) -> Ints | None:
    """high x 2**32 + low of each day in int64, or None when one could not fit."""
    if int(highs.max(initial=0)) >= 2**29 or int(lows.max(initial=0)) >= 2**61:
        return None
    joined: Ints = (highs << HALF_BITS) + lows
    return joined


def parsed(lists: dict[Any, list[str]], names: Sequence[str], with_durations: bool) -> DayColumns:
    """day_lists.rollup_lists' texts (the lists of `names`, "durations" last if read),
    the per-day ones of every sync parsed in one numpy pass (they line up)."""
    keys = list(lists)
    per_day = len(names) - with_durations
    counts = [lists[key][0].count(",") + 1 for key in keys]
    joined = ",".join(lists[key][n] for n in range(per_day) for key in keys)
    flat = np.fromstring(joined, dtype=np.int64, sep=",") if keys else EMPTY_INTS
    columns = dict(zip(names[:per_day], flat.reshape(per_day, -1), strict=True))
    durations = parse_int_lists([lists[key][-1] for key in keys]) if with_durations else None
    found = DayColumns(keys, _bounds(counts), columns, durations)
    return found if _in_day_order(columns["day"], found.bounds) else _day_ordered(found)


def cut_day(cut: dict[Any, tuple[str, int, int]], day: int, names: Sequence[str]) -> DayColumns:
    """day_lists.cut_day_lists' durations (and timed rows), summed as the rollups sum a
    day: each sync's runs of the window's first local `day`."""
    keys = list(cut)
    texts = [cut[key][0] for key in keys]
    counts = [text.count(",") + 1 for text in texts]
    values = np.fromstring(",".join(texts), dtype=np.int64, sep=",") if keys else EMPTY_INTS
    bounds = _bounds(counts)
    firsts = bounds[:-1]
    every = {
        "day": np.full(len(keys), day, np.int64),
        "runs": np.array(counts, np.int64),
        "duration_sum": np.array(segment_sums(values, bounds), np.int64),
        "duration_max": np.maximum.reduceat(values, firsts) if keys else EMPTY_INTS,
        "timed_runs": np.add.reduceat((values > 0).astype(np.int64), firsts)
        if keys
        else EMPTY_INTS,
        "timed_rows_high": np.array([cut[key][1] for key in keys], np.int64),
        "timed_rows_low": np.array([cut[key][2] for key in keys], np.int64),
    }
    durations = np.split(values, firsts[1:]) if keys else []
    columns = {name: every[name] for name in names if name != "durations"}
    return DayColumns(keys, _bounds([1] * len(keys)), columns, durations)


def prepended(first: DayColumns, later: DayColumns) -> DayColumns:
    """Per sync, the days of `first` (earlier ones) before those of `later`."""
    place = {key: n for n, key in enumerate(later.keys)}
    keys = later.keys + [key for key in first.keys if key not in place]
    place.update((key, n) for n, key in enumerate(keys))
    owner = np.concatenate(
        [
            np.array([place[key] for key in first.keys], np.int64),
            np.repeat(np.arange(len(later.keys)), np.diff(later.bounds)),
        ]
    )
    order = np.argsort(owner, kind="stable")  # each sync's rows of `first` come first
    columns = {
        name: np.concatenate([first.columns[name], values])[order]
        for name, values in later.columns.items()
    }
    return DayColumns(
        keys,
        _bounds(np.bincount(owner, minlength=len(keys)).tolist()),
        columns,
        _joined_durations(first, later, keys),
    )


def _joined_durations(first: DayColumns, later: DayColumns, keys: list[Any]) -> list[Ints] | None:
    if first.durations is None or later.durations is None:
        return None
    mine: dict[Any, Ints] = dict(zip(first.keys, first.durations, strict=True))
    joined = [
        np.concatenate([mine[key], theirs]) if key in mine else theirs
        for key, theirs in zip(later.keys, later.durations, strict=True)
    ]
    return joined + [mine[key] for key in keys[len(later.keys) :]]


def _bounds(counts: list[int]) -> Ints:
    bounds: Ints = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=bounds[1:])
    return bounds


def _in_day_order(days: Ints, bounds: Ints) -> bool:
    """Whether each sync's days ascend (a fall can only come where a sync's part begins)."""
    falls = np.flatnonzero(days[1:] <= days[:-1]) + 1
    return bool(np.isin(falls, bounds).all())


def _day_ordered(found: DayColumns) -> DayColumns:
    """The columns in day order within each sync, if they came otherwise (a group's lists
    come in its scan's order, which is the key's, but no database promises it)."""
    owner = np.repeat(np.arange(len(found.keys)), np.diff(found.bounds))
    order = np.lexsort((found.columns["day"], owner))
    columns = {name: values[order] for name, values in found.columns.items()}
    return DayColumns(found.keys, found.bounds, columns, found.durations)
