"""The health score of a sync in words (contract 8.1): each of its four parts with its
points out of its maximum and a sentence made from the facts the score was computed from
(the sync detail's health_inputs). Pure: no database, no web framework."""

from __future__ import annotations

from dataclasses import dataclass

from insights.dashboard.formats import duration, span
from insights.reports.health_score import (
    LATENCY_FREE_RATIO,
    LATENCY_ZERO_RATIO,
    PART_POINTS,
    SUCCESS_POINTS,
    HealthComponents,
)
from insights.reports.sync_detail import HealthInputsRead

HALF_WEEK = "3.5 days"
TIMES = "\u00d7"


@dataclass(frozen=True)
class ScorePart:
    """One part of the score: its key (as in health_components), title, points, maximum,
    what it measured in words, and the rule that gave the points."""

    key: str
    title: str
    points: float
    maximum: int
    sentence: str
    rule: str


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 run', '3 runs', '0 failures'."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def score_parts(
    inputs: HealthInputsRead,
    components: HealthComponents,
    schedule: str | None,
    sla_freshness_minutes: int | None,
) -> list[ScorePart]:
    """The four parts, in the contract's order."""
    return [
        ScorePart("success", "Success", components.success, SUCCESS_POINTS, *success_words(inputs)),
        ScorePart(
            "error_trend", "Error trend", components.error_trend, PART_POINTS, *trend_words(inputs)
        ),
        ScorePart("latency", "Latency", components.latency, PART_POINTS, *latency_words(inputs)),
        ScorePart(
            "freshness",
            "Freshness",
            components.freshness,
            PART_POINTS,
            *freshness_words(inputs, schedule, sla_freshness_minutes),
        ),
    ]


def success_words(inputs: HealthInputsRead) -> tuple[str, str]:
    finished = inputs.finished_runs_7d
    rule = f"{SUCCESS_POINTS} points times the share of finished runs that completed."
    if finished:
        failed = finished - inputs.completed_runs_7d
        runs = "finished run" if finished == 1 else "finished runs"
        return f"{failed:,} of {finished:,} {runs} failed in the last 7 days.", rule
    return (
        "No run finished in the last 7 days; the score looks at the latest finished run.",
        f"{SUCCESS_POINTS} points if it completed, 0 if it failed.",
    )


def trend_words(inputs: HealthInputsRead) -> tuple[str, str]:
    old, new = inputs.failed_old, inputs.failed_new
    if old == new == 0:
        return "No failed runs in the last 7 days.", f"No failures: {PART_POINTS} points."
    sentence = (
        f"{plural(new, 'failure')} in the last {HALF_WEEK} against {old:,} in the "
        f"{HALF_WEEK} before."
    )
    if new < old:
        return sentence, f"Fewer failures than before: {PART_POINTS} points."
    if new == old:
        return sentence, f"As many failures as before: {PART_POINTS // 2} points."
    return sentence, "More failures than before: 0 points."


def latency_words(inputs: HealthInputsRead) -> tuple[str, str]:
    latest, mean = inputs.latest_duration_seconds, inputs.mean_duration_seconds
    free, zero = float(LATENCY_FREE_RATIO), LATENCY_ZERO_RATIO
    rule = f"Up to {free:g}{TIMES} the usual costs nothing; {zero}{TIMES} or more scores 0."
    if latest is None:
        return "No run has completed, so there is no duration to judge.", "No completed run: 0."
    took = f"The latest completed run took {duration(latest)}"
    if mean is None:
        return (
            f"{took}; no completed run in the 30 days before it to compare with.",
            f"Nothing to compare with: {PART_POINTS} points.",
        )
    if mean == 0:
        return (
            f"{took}; the completed runs of the 30 days before it took 0 s.",
            f"No usual duration to compare with: {PART_POINTS} points.",
        )
    usual = duration(round(mean))
    ratio = f"{latest / mean:.1f}{TIMES}"
    return f"{took}, {ratio} the usual {usual} (the mean of its 30 days before).", rule


def freshness_words(
    inputs: HealthInputsRead, schedule: str | None, sla_freshness_minutes: int | None
) -> tuple[str, str]:
    age, interval = inputs.seconds_since_last_success, inputs.expected_interval_seconds
    if age is None:
        return "No run has completed yet.", "No success: 0 points."
    last = f"Last success {span(age)} ago"
    if interval is None:
        plan = f'schedule "{schedule}" is not a cron expression' if schedule else "no schedule"
        return (
            f"{last}; {plan}, so there is no expected interval.",
            f"A completed run exists: {PART_POINTS} points.",
        )
    source = "the SLA target" if sla_freshness_minutes is not None else f"schedule {schedule}"
    return (
        f"{last}; expected every {span(interval)} ({source}).",
        f"Within one interval: {PART_POINTS} points; none at three intervals.",
    )


def unscored_words(health_status: str) -> str:
    """Why a sync has no score."""
    if health_status == "paused":
        return "Paused syncs are not scored."
    return "No run of this sync has finished yet, so there is nothing to score."
