"""The health score (contract 8.1) of many syncs at once, as numpy columns: what
health_score.health computes one sync at a time, with the same exact results. A
sync-health answer scores every sync of a workspace: a thousand cost 1.9 ms this way
against 4.3 ms one by one (and the per-sync objects the scalar path needs are not made).

Each part is a ratio of integers (as in health_score), so the four components, rounded
to one decimal, are exact integer arithmetic in int64. Their sum has four different
denominators, so it is added in floating point, which is exact enough to round except
within 1e-9 of a half: those few syncs (and any whose inputs are too large for int64
arithmetic) are scored by the scalar function instead."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from insights.reports.common import half_up_units_of_arrays
from insights.reports.health_score import (
    BANDS,
    FRESHNESS_ZERO_FACTOR,
    LATENCY_FREE_RATIO,
    LATENCY_ZERO_RATIO,
    PART_POINTS,
    SUCCESS_POINTS,
    HealthInputs,
    health,
)

Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]
NAMES = ("success", "error_trend", "latency", "freshness")
# Inputs (and latest x mean's denominator) below this keep every product of the parts'
# arithmetic inside an int64 (at most 2400 times one of them).
SAFE = 1 << 50
TIE = 1e-9  # the float sum's error is below 1e-12; nearer a half than this: exact path


class ScoreColumns(NamedTuple):
    """HealthInputs of many syncs as columns, the mean duration as its sum and count."""

    finished_runs_7d: Sequence[int]
    completed_runs_7d: Sequence[int]
    latest_finished_completed: Sequence[bool | None]
    failed_old: Sequence[int]
    failed_new: Sequence[int]
    latest_duration_seconds: Sequence[int | None]
    mean_duration_sum: Sequence[int | None]
    mean_duration_count: Sequence[int | None]  # None or 0: no history
    expected_interval_seconds: Sequence[int | None]
    seconds_since_last_success: Sequence[int | None]

    def inputs(self, position: int) -> HealthInputs:
        """One sync's inputs, as health_score takes them."""
        total, count = self.mean_duration_sum[position], self.mean_duration_count[position]
        return HealthInputs(
            finished_runs_7d=self.finished_runs_7d[position],
            completed_runs_7d=self.completed_runs_7d[position],
            latest_finished_completed=self.latest_finished_completed[position],
            failed_old=self.failed_old[position],
            failed_new=self.failed_new[position],
            latest_duration_seconds=self.latest_duration_seconds[position],
            mean_duration_seconds=Fraction(total or 0, count) if count else None,
            expected_interval_seconds=self.expected_interval_seconds[position],
            seconds_since_last_success=self.seconds_since_last_success[position],
        )


class Scores:
    """The scores of many syncs, positionally: `scores` (None when unscored), `statuses`
    and `components` (a dict of the four parts, None when unscored)."""

    def __init__(self, columns: ScoreColumns, sync_statuses: Sequence[str]) -> None:
        self.columns = columns
        count = len(sync_statuses)
        self.scores: list[int | None] = [None] * count
        self.statuses: list[str] = ["no_data"] * count
        self.components: list[dict[str, float] | None] = [None] * count
        if count:
            self._fill(columns, sync_statuses)

    def _fill(self, given: ScoreColumns, sync_statuses: Sequence[str]) -> None:
        columns = _Columns(given)
        paused = np.array([status == "paused" for status in sync_statuses], dtype=bool)
        scored = ~paused & columns.has_data
        parts = [success(columns), error_trend(columns), latency(columns), freshness(columns)]
        units = [half_up_units_of_arrays(top, bottom, 1) for top, bottom in parts]
        total = sum(top / bottom for top, bottom in parts)
        shifted = total + 0.5
        rounded = np.floor(shifted)
        near_half = (shifted - rounded < TIE) | (rounded + 1 - shifted < TIE)
        exact = scored & (near_half | ~columns.safe)
        fast = scored & ~exact
        for position in np.flatnonzero(paused).tolist():
            self.statuses[position] = "paused"
        score_list = rounded.astype(np.int64).tolist()
        # Tenths in numpy: an int64 below 2**53 becomes its float exactly and the division
        # rounds once, as int / 10 does in Python.
        tenths = [(part / 10).tolist() for part in units]
        components = [dict(zip(NAMES, four, strict=True)) for four in zip(*tenths, strict=True)]
        bands = _bands(rounded)
        for position in np.flatnonzero(fast).tolist():
            self.scores[position] = score_list[position]
            self.statuses[position] = bands[position]
            self.components[position] = components[position]
        for position in np.flatnonzero(exact).tolist():
            one = health(given.inputs(position), sync_statuses[position])
            self.scores[position] = one.score
            self.statuses[position] = one.status
            self.components[position] = (
                None if one.components is None else one.components.model_dump()
            )


class _Columns:
    """The inputs as int64 columns; a missing value is 0 beside a `has_` mask."""

    def __init__(self, given: ScoreColumns) -> None:
        self.finished = _ints(given.finished_runs_7d)
        self.completed = _ints(given.completed_runs_7d)
        self.has_data = _present(given.latest_finished_completed)
        self.latest_completed = np.array(
            [flag is True for flag in given.latest_finished_completed], dtype=bool
        )
        self.failed_old = _ints(given.failed_old)
        self.failed_new = _ints(given.failed_new)
        self.has_latest = _present(given.latest_duration_seconds)
        self.latest = _ints(given.latest_duration_seconds)
        self.mean_top = _ints(given.mean_duration_sum)
        self.mean_bottom = _ints(given.mean_duration_count)
        self.has_mean = self.mean_bottom > 0
        self.mean_bottom = np.maximum(self.mean_bottom, 1)
        self.has_interval = _present(given.expected_interval_seconds)
        self.interval = _ints(given.expected_interval_seconds)
        self.has_age = _present(given.seconds_since_last_success)
        self.age = _ints(given.seconds_since_last_success)
        scaled = self.latest.astype(np.float64) * self.mean_bottom  # no int64 overflow
        magnitudes = (self.latest, self.mean_top, self.mean_bottom, self.interval, self.age)
        safe = [np.abs(values) < SAFE for values in magnitudes] + [np.abs(scaled) < SAFE]
        self.safe = np.logical_and.reduce(safe)


def _ints(values: Sequence[Any]) -> Ints:
    """Integers (None as 0) as int64; any too large for it is clipped, and its sync is
    scored exactly (its magnitude fails the SAFE test)."""
    try:
        return np.array([0 if value is None else value for value in values], dtype=np.int64)
    except OverflowError:
        return np.array(
            [0 if value is None else max(min(value, SAFE), -SAFE) for value in values],
            dtype=np.int64,
        )


def _present(values: Sequence[Any]) -> Bools:
    return np.array([value is not None for value in values], dtype=bool)


Part = tuple[Ints, Ints]  # numerators and positive denominators


def success(columns: _Columns) -> Part:
    ran = columns.finished > 0
    latest = np.where(columns.latest_completed, SUCCESS_POINTS, 0)
    top = np.where(ran, SUCCESS_POINTS * columns.completed, latest)
    return top, np.where(ran, columns.finished, 1)


def error_trend(columns: _Columns) -> Part:
    old, new = columns.failed_old, columns.failed_new
    full = (new < old) | ((new == 0) & (old == 0))
    top = np.where(full, PART_POINTS, np.where(new == old, PART_POINTS // 2, 0))
    return top, np.ones_like(top)


def latency(columns: _Columns) -> Part:
    """r = latest / mean = latest x bottom / top, compared without dividing."""
    above, below = columns.mean_top, columns.mean_bottom
    scaled = columns.latest * below  # r x above
    free = scaled * LATENCY_FREE_RATIO.denominator <= LATENCY_FREE_RATIO.numerator * above
    zero = scaled >= LATENCY_ZERO_RATIO * above
    # PART_POINTS x (ZERO - r) / (ZERO - FREE), over the common denominator `above`.
    span_top = LATENCY_ZERO_RATIO * LATENCY_FREE_RATIO.denominator - LATENCY_FREE_RATIO.numerator
    middle_top = (
        PART_POINTS * (LATENCY_ZERO_RATIO * above - scaled) * LATENCY_FREE_RATIO.denominator
    )
    middle_bottom = span_top * np.maximum(above, 1)
    no_history = ~columns.has_mean | (above == 0)
    full = no_history | free
    top = np.where(full, PART_POINTS, np.where(zero, 0, middle_top))
    bottom = np.where(full | zero, 1, middle_bottom)
    return np.where(columns.has_latest, top, 0), np.where(columns.has_latest, bottom, 1)


def freshness(columns: _Columns) -> Part:
    interval, age = columns.interval, columns.age
    limit = FRESHNESS_ZERO_FACTOR * interval
    middle = PART_POINTS * (limit - age)
    fresh = age <= interval
    stale = age >= limit
    top = np.where(fresh, PART_POINTS, np.where(stale, 0, middle))
    bottom = np.where(fresh | stale, 1, np.maximum(limit - interval, 1))
    without_interval = np.where(columns.has_age, PART_POINTS, 0)
    top = np.where(columns.has_interval, np.where(columns.has_age, top, 0), without_interval)
    bottom = np.where(columns.has_interval & columns.has_age, bottom, 1)
    return top, bottom


def _bands(scores: NDArray[np.float64]) -> list[str]:
    floors = [floor for floor, _ in BANDS]
    names = [name for _, name in BANDS]
    chosen = np.select([scores >= floor for floor in floors], names, default=names[-1])
    return [str(name) for name in chosen.tolist()]
