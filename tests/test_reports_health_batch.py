"""The health score computed a column at a time (reports/health_batch) equals the scalar
health_score.health, sync by sync, on random inputs: ties at a half, huge values, paused
syncs and syncs without data included."""

from __future__ import annotations

import random
from fractions import Fraction

from insights.reports.health_batch import ScoreColumns, Scores
from insights.reports.health_score import (
    HealthInputs,
    error_trend,
    freshness,
    health,
    latency,
    success,
)


def _random_inputs(rng: random.Random) -> HealthInputs:
    finished = rng.choice([0, 0, 1, 2, 3, 4, 5, 8, 10, 16, 40, 77, 80])
    count = rng.choice([0, 1, 2, 3, 7, 30])
    big = rng.random() < 0.05  # beyond what the column arithmetic takes: the exact path
    scale = 10**19 if big else 1
    return HealthInputs(
        finished_runs_7d=finished,
        completed_runs_7d=rng.randint(0, finished),
        latest_finished_completed=rng.choice([None, True, False]),
        failed_old=rng.randint(0, 4),
        failed_new=rng.randint(0, 4),
        latest_duration_seconds=rng.choice([None, 0, 1, rng.randint(1, 900) * scale]),
        mean_duration_seconds=(
            Fraction(rng.choice([0, rng.randint(1, 600) * count]), count) if count else None
        ),
        expected_interval_seconds=rng.choice([None, 60, 3600, 7200, rng.randint(1, 10**5)]),
        seconds_since_last_success=rng.choice(
            [None, 0, 60, 3600, 5400, 10620, 10800, rng.randint(0, 4 * 10**5) * scale]
        ),
    )


def _columns(all_inputs: list[HealthInputs]) -> ScoreColumns:
    means = [one.mean_duration_seconds for one in all_inputs]
    return ScoreColumns(
        finished_runs_7d=[one.finished_runs_7d for one in all_inputs],
        completed_runs_7d=[one.completed_runs_7d for one in all_inputs],
        latest_finished_completed=[one.latest_finished_completed for one in all_inputs],
        failed_old=[one.failed_old for one in all_inputs],
        failed_new=[one.failed_new for one in all_inputs],
        latest_duration_seconds=[one.latest_duration_seconds for one in all_inputs],
        # A mean as the state row holds it: a sum and a count, not reduced.
        mean_duration_sum=[None if m is None else m.numerator * 3 for m in means],
        mean_duration_count=[None if m is None else m.denominator * 3 for m in means],
        expected_interval_seconds=[one.expected_interval_seconds for one in all_inputs],
        seconds_since_last_success=[one.seconds_since_last_success for one in all_inputs],
    )


def test_column_scores_equal_the_scalar_score_sync_by_sync() -> None:
    rng = random.Random(13)
    all_inputs = [_random_inputs(rng) for _ in range(20_000)]
    statuses = [rng.choice(["active", "active", "active", "paused"]) for _ in all_inputs]
    scores = Scores(_columns(all_inputs), statuses)
    seen_ties = 0
    for position, (inputs, status) in enumerate(zip(all_inputs, statuses, strict=True)):
        expected = health(inputs, status)
        assert scores.scores[position] == expected.score, inputs
        assert scores.statuses[position] == expected.status, inputs
        parts = None if expected.components is None else expected.components.model_dump()
        assert scores.components[position] == parts, inputs
        if parts is not None and _exact_sum(inputs).denominator == 2:
            seen_ties += 1  # the sum is a half: the score's rounding hinges on exactness
    # The sample reaches every band and the exact path's cases, or it proves little.
    assert {"healthy", "warning", "degraded", "critical", "no_data", "paused"} <= set(
        scores.statuses
    )
    assert seen_ties > 0


def _exact_sum(inputs: HealthInputs) -> Fraction:
    parts = (success(inputs), error_trend(inputs), latency(inputs), freshness(inputs))
    return sum((Fraction(top, bottom) for top, bottom in parts), Fraction(0))


def test_the_inputs_of_a_column_are_those_the_scalar_score_takes() -> None:
    rng = random.Random(7)
    all_inputs = [_random_inputs(rng) for _ in range(500)]
    columns = _columns(all_inputs)
    assert [columns.inputs(n) for n in range(len(all_inputs))] == all_inputs


def test_no_syncs_no_scores() -> None:
    empty = ScoreColumns([], [], [], [], [], [], [], [], [], [])
    scores = Scores(empty, [])
    assert (scores.scores, scores.statuses, scores.components) == ([], [], [])
