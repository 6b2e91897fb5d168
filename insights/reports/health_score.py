"""The health score of a sync (contract 8.1): four weighted parts out of the facts of its
runs at one moment, in exact arithmetic; the bands it falls in. Pure: the facts come from
health_inputs (every sync, now) or score_history (one sync, the end of each date)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from insights.reports.common import round_half_up, round_half_up_int
from insights.schemas.base import ResponseModel

SUCCESS_POINTS = 40
PART_POINTS = 20
LATENCY_FREE_RATIO = Fraction(3, 2)  # up to 1.5 times the usual duration costs nothing
LATENCY_ZERO_RATIO = 3
FRESHNESS_ZERO_FACTOR = 3  # at 3 intervals without a success, freshness is 0
BANDS = ((80, "healthy"), (60, "warning"), (40, "degraded"), (0, "critical"))
STATUSES = ("healthy", "warning", "degraded", "critical", "no_data", "paused")


class HealthInputs(NamedTuple):
    """What the score of one sync at one moment is computed from (detail: health_inputs).
    A named tuple: one per sync per sync-health answer."""

    finished_runs_7d: int  # completed or failed, started in the last 7 days
    completed_runs_7d: int
    latest_finished_completed: bool | None  # None: no finished run at any time
    failed_old: int  # failed, started in [now - 7 d, now - 3.5 d)
    failed_new: int  # failed, started in [now - 3.5 d, now]
    latest_duration_seconds: int | None  # of the latest completed run, by started_at
    mean_duration_seconds: Fraction | None  # of the completed runs 30 days before it
    expected_interval_seconds: int | None  # from the SLA target or the cron schedule
    seconds_since_last_success: int | None  # now - latest completed_at of a completed run


class HealthComponents(ResponseModel):
    success: float
    error_trend: float
    latency: float
    freshness: float


@dataclass(frozen=True)
class Health:
    score: int | None
    status: str
    components: HealthComponents | None


def health(inputs: HealthInputs, sync_status: str) -> Health:
    """The score, its band and its four parts; null for a paused sync or one without data."""
    if sync_status == "paused":
        return Health(None, "paused", None)
    if inputs.latest_finished_completed is None:
        return Health(None, "no_data", None)
    parts = (success(inputs), error_trend(inputs), latency(inputs), freshness(inputs))
    score = round_half_up_int(*_summed(parts))
    assert score is not None
    return Health(score, band(score), HealthComponents(**_rounded(parts)))


def band(score: int) -> str:
    for floor, name in BANDS:
        if score >= floor:
            return name
    raise ValueError(f"a health score is 0 to 100, not {score}")


# A part as numerator and positive denominator: plain ints, exact, and several times
# cheaper than Fraction for the thousand syncs of one sync-health answer.
Part = tuple[int, int]


def success(inputs: HealthInputs) -> Part:
    if inputs.finished_runs_7d:
        return SUCCESS_POINTS * inputs.completed_runs_7d, inputs.finished_runs_7d
    return (SUCCESS_POINTS if inputs.latest_finished_completed else 0), 1


def error_trend(inputs: HealthInputs) -> Part:
    old, new = inputs.failed_old, inputs.failed_new
    if new < old or new == old == 0:
        return PART_POINTS, 1
    return (PART_POINTS // 2 if new == old else 0), 1


def latency(inputs: HealthInputs) -> Part:
    latest, mean = inputs.latest_duration_seconds, inputs.mean_duration_seconds
    if latest is None:
        return 0, 1
    if mean is None or mean == 0:
        return PART_POINTS, 1
    # r = latest / mean = latest * below / above, compared and scaled without dividing.
    above, below = mean.numerator, mean.denominator
    scaled = latest * below  # r * above
    if scaled * LATENCY_FREE_RATIO.denominator <= LATENCY_FREE_RATIO.numerator * above:
        return PART_POINTS, 1
    if scaled >= LATENCY_ZERO_RATIO * above:
        return 0, 1
    # PART_POINTS x (ZERO - r) / (ZERO - FREE), over the common denominator `above`.
    span = (LATENCY_ZERO_RATIO - LATENCY_FREE_RATIO) * above
    top = PART_POINTS * (LATENCY_ZERO_RATIO * above - scaled) * span.denominator
    return top, span.numerator


def freshness(inputs: HealthInputs) -> Part:
    interval, age = inputs.expected_interval_seconds, inputs.seconds_since_last_success
    if interval is None:
        return (PART_POINTS if age is not None else 0), 1
    if age is None:
        return 0, 1
    if age <= interval:
        return PART_POINTS, 1
    limit = FRESHNESS_ZERO_FACTOR * interval
    if age >= limit:
        return 0, 1
    return PART_POINTS * (limit - age), limit - interval


def _summed(parts: tuple[Part, ...]) -> Part:
    numerator, denominator = 0, 1
    for top, bottom in parts:
        numerator, denominator = numerator * bottom + top * denominator, denominator * bottom
    return numerator, denominator


def _rounded(parts: tuple[Part, ...]) -> dict[str, float]:
    names = ("success", "error_trend", "latency", "freshness")
    return {
        name: round_half_up(top, bottom, 1) or 0.0
        for name, (top, bottom) in zip(names, parts, strict=True)
    }
