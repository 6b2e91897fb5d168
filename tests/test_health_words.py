"""The health score in words (the sync detail page) and the time spans its sentences use:
exact sentences from fixed inputs, written out here rather than derived from the code."""

from __future__ import annotations

from typing import Any

import pytest

from insights.dashboard.formats import span
from insights.dashboard.health_words import (
    freshness_words,
    latency_words,
    score_parts,
    success_words,
    trend_words,
    unscored_words,
)
from insights.reports.health_score import HealthComponents
from insights.reports.sync_detail import HealthInputsRead

HOUR = 3600


def inputs(**changed: Any) -> HealthInputsRead:
    base: dict[str, Any] = {
        "finished_runs_7d": 28,
        "completed_runs_7d": 25,
        "failed_old": 1,
        "failed_new": 2,
        "latest_duration_seconds": 300,
        "mean_duration_seconds": 120.0,
        "expected_interval_seconds": 4 * HOUR,
        "seconds_since_last_success": 12 * HOUR + 59,
    }
    return HealthInputsRead(**{**base, **changed})


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (60, "1 min"),
        (12 * 60 + 59, "12 min"),
        (4 * HOUR, "4 h"),
        (3 * HOUR + 20 * 60 + 5, "3 h 20 min"),
        (2 * 86400 + 4 * HOUR, "2 d 4 h"),
        (86400 + 59 * 60, "1 d"),
        (None, "\u2014"),
    ],
)
def test_a_span_is_its_two_largest_units_rounded_down(seconds: int | None, words: str) -> None:
    assert span(seconds) == words


def test_success_counts_the_failed_runs_of_the_week() -> None:
    sentence, rule = success_words(inputs())
    assert sentence == "3 of 28 finished runs failed in the last 7 days."
    assert rule == "40 points times the share of finished runs that completed."
    assert success_words(inputs(finished_runs_7d=1, completed_runs_7d=1))[0] == (
        "0 of 1 finished run failed in the last 7 days."
    )


def test_success_without_a_run_this_week_looks_at_the_latest() -> None:
    sentence, rule = success_words(inputs(finished_runs_7d=0, completed_runs_7d=0))
    assert sentence.startswith("No run finished in the last 7 days")
    assert rule == "40 points if it completed, 0 if it failed."


@pytest.mark.parametrize(
    ("old", "new", "sentence", "rule"),
    [
        (0, 0, "No failed runs in the last 7 days.", "No failures: 20 points."),
        (
            3,
            1,
            "1 failure in the last 3.5 days against 3 in the 3.5 days before.",
            "Fewer failures than before: 20 points.",
        ),
        (
            2,
            2,
            "2 failures in the last 3.5 days against 2 in the 3.5 days before.",
            "As many failures as before: 10 points.",
        ),
        (
            0,
            4,
            "4 failures in the last 3.5 days against 0 in the 3.5 days before.",
            "More failures than before: 0 points.",
        ),
    ],
)
def test_the_error_trend_compares_the_two_half_weeks(
    old: int, new: int, sentence: str, rule: str
) -> None:
    assert trend_words(inputs(failed_old=old, failed_new=new)) == (sentence, rule)


def test_latency_names_the_ratio_to_the_usual_duration() -> None:
    sentence, rule = latency_words(inputs())
    assert sentence == (
        "The latest completed run took 5m 00s, 2.5\u00d7 the usual 2m 00s "
        "(the mean of its 30 days before)."
    )
    assert rule == "Up to 1.5\u00d7 the usual costs nothing; 3\u00d7 or more scores 0."
    assert latency_words(inputs(latest_duration_seconds=None))[1] == "No completed run: 0."
    alone = latency_words(inputs(mean_duration_seconds=None))
    assert alone[0].endswith("no completed run in the 30 days before it to compare with.")
    assert latency_words(inputs(mean_duration_seconds=0.0))[1].endswith(": 20 points.")


def test_freshness_names_the_age_and_where_the_interval_comes_from() -> None:
    sentence, _ = freshness_words(inputs(), "0 */4 * * *", None)
    assert sentence == "Last success 12 h ago; expected every 4 h (schedule 0 */4 * * *)."
    sentence, _ = freshness_words(inputs(expected_interval_seconds=6 * HOUR), "0 * * * *", 360)
    assert sentence == "Last success 12 h ago; expected every 6 h (the SLA target)."
    manual = freshness_words(inputs(expected_interval_seconds=None), "manual", None)
    assert manual == (
        'Last success 12 h ago; schedule "manual" is not a cron expression, so there is no '
        "expected interval.",
        "A completed run exists: 20 points.",
    )
    assert freshness_words(inputs(expected_interval_seconds=None), None, None)[0] == (
        "Last success 12 h ago; no schedule, so there is no expected interval."
    )
    never = freshness_words(inputs(seconds_since_last_success=None), "0 * * * *", None)
    assert never == ("No run has completed yet.", "No success: 0 points.")


def test_the_parts_come_in_the_contract_order_with_their_points() -> None:
    components = HealthComponents(success=35.7, error_trend=0.0, latency=13.3, freshness=20.0)
    parts = score_parts(inputs(), components, "0 */4 * * *", None)
    assert [(p.key, p.points, p.maximum) for p in parts] == [
        ("success", 35.7, 40),
        ("error_trend", 0.0, 20),
        ("latency", 13.3, 20),
        ("freshness", 20.0, 20),
    ]


def test_an_unscored_sync_says_why() -> None:
    assert unscored_words("paused") == "Paused syncs are not scored."
    assert "no run of this sync has finished" in unscored_words("no_data").lower()
