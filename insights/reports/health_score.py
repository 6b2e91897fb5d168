"""The health score of a sync (contract 8.1): four weighted parts out of the facts of its
runs at one moment, in exact arithmetic; the bands it falls in. Pure: the facts come from
health_inputs (every sync, now) or score_history (one sync, the end of each date)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from insights.reports.common import round_half_up, round_half_up_int
from insights.schemas.base import ResponseModel

SUCCESS_POINTS = 40
PART_POINTS = 20
LATENCY_FREE_RATIO = Fraction(3, 2)  # up to 1.5 times the usual duration costs nothing
LATENCY_ZERO_RATIO = 3
FRESHNESS_ZERO_FACTOR = 3  # at 3 intervals without a success, freshness is 0
BANDS = ((80, "healthy"), (60, "warning"), (40, "degraded"), (0, "critical"))
STATUSES = ("healthy", "warning", "degraded", "critical", "no_data", "paused")


@dataclass(frozen=True)
class HealthInputs:
    """What the score of one sync at one moment is computed from (detail: health_inputs)."""

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
    score = round_half_up_int(sum(parts, Fraction(0)), 1)
    assert score is not None
    return Health(score, band(score), HealthComponents(**_rounded(parts)))


def band(score: int) -> str:
    return next(name for floor, name in BANDS if score >= floor)


def success(inputs: HealthInputs) -> Fraction:
    if inputs.finished_runs_7d:
        return Fraction(SUCCESS_POINTS * inputs.completed_runs_7d, inputs.finished_runs_7d)
    return Fraction(SUCCESS_POINTS if inputs.latest_finished_completed else 0)


def error_trend(inputs: HealthInputs) -> Fraction:
    old, new = inputs.failed_old, inputs.failed_new
    if new < old or new == old == 0:
        return Fraction(PART_POINTS)
    return Fraction(PART_POINTS // 2 if new == old else 0)


def latency(inputs: HealthInputs) -> Fraction:
    latest, mean = inputs.latest_duration_seconds, inputs.mean_duration_seconds
    if latest is None:
        return Fraction(0)
    if mean is None or mean == 0:
        return Fraction(PART_POINTS)
    ratio = latest / mean
    if ratio <= LATENCY_FREE_RATIO:
        return Fraction(PART_POINTS)
    if ratio >= LATENCY_ZERO_RATIO:
        return Fraction(0)
    return PART_POINTS * (LATENCY_ZERO_RATIO - ratio) / (LATENCY_ZERO_RATIO - LATENCY_FREE_RATIO)


def freshness(inputs: HealthInputs) -> Fraction:
    interval, age = inputs.expected_interval_seconds, inputs.seconds_since_last_success
    if interval is None:
        return Fraction(PART_POINTS if age is not None else 0)
    if age is None:
        return Fraction(0)
    if age <= interval:
        return Fraction(PART_POINTS)
    limit = FRESHNESS_ZERO_FACTOR * interval
    if age >= limit:
        return Fraction(0)
    return Fraction(PART_POINTS * (limit - age), limit - interval)


def _rounded(parts: tuple[Fraction, ...]) -> dict[str, float]:
    names = ("success", "error_trend", "latency", "freshness")
    return {name: round_half_up(part, 1, 1) or 0.0 for name, part in zip(names, parts, strict=True)}
