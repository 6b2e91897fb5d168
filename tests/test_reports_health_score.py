"""The health score (contract 8.1): each part at its boundaries, the bands, the cron
interval across daylight-saving changes, and sync-health against an independent reading
of the contract on random histories, on both databases."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from insights.reports.health_score import HealthInputs, band, health
from insights.reports.schedules import ScheduleIntervals
from insights.reports.sync_detail import sync_detail
from insights.reports.sync_health import sync_health
from tests.support import oracle
from tests.support.databases import Database
from tests.support.factories import make_sync, make_sync_run, make_workspace
from tests.support.oracle import Run, utc

NOW = utc(2024, 6, 20, 12, 0, 0)
NEW_YORK = ZoneInfo("America/New_York")


def inputs(**changes: Any) -> HealthInputs:
    """A perfect sync's facts, with `changes`."""
    facts: dict[str, Any] = {
        "finished_runs_7d": 10,
        "completed_runs_7d": 10,
        "latest_finished_completed": True,
        "failed_old": 0,
        "failed_new": 0,
        "latest_duration_seconds": 100,
        "mean_duration_seconds": Fraction(100),
        "expected_interval_seconds": 3600,
        "seconds_since_last_success": 60,
    }
    return HealthInputs(**{**facts, **changes})


def parts(**changes: Any) -> dict[str, float]:
    result = health(inputs(**changes), "active")
    assert result.components is not None
    return result.components.model_dump()


def test_a_perfect_sync_scores_100() -> None:
    assert health(inputs(), "active").score == 100
    assert health(inputs(), "error").status == "healthy"  # only paused is left unscored


def test_paused_and_never_finished_syncs_have_no_score() -> None:
    paused = health(inputs(), "paused")
    never = health(inputs(latest_finished_completed=None), "active")
    assert (paused.score, paused.status, paused.components) == (None, "paused", None)
    assert (never.score, never.status, never.components) == (None, "no_data", None)


@pytest.mark.parametrize(
    ("finished", "completed", "latest_ok", "expected"),
    [
        (3, 2, True, 26.7),  # 40 x 2/3 = 26.666...
        (8, 7, True, 35.0),
        (0, 0, True, 40.0),  # none in 7 days: the latest finished run decides
        (0, 0, False, 0.0),
    ],
)
def test_success_is_the_share_of_completed_runs(
    finished: int, completed: int, latest_ok: bool, expected: float
) -> None:
    changes = {
        "finished_runs_7d": finished,
        "completed_runs_7d": completed,
        "latest_finished_completed": latest_ok,
    }
    assert parts(**changes)["success"] == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [(0, 0, 20.0), (3, 1, 20.0), (2, 2, 10.0), (1, 2, 0.0), (0, 1, 0.0)],
)
def test_error_trend_compares_the_two_halves_of_the_week(
    old: int, new: int, expected: float
) -> None:
    assert parts(failed_old=old, failed_new=new)["error_trend"] == expected


@pytest.mark.parametrize(
    ("latest", "mean", "expected"),
    [
        (150, Fraction(100), 20.0),  # r = 1.5: free
        (151, Fraction(100), 19.9),  # 20 x (3 - 1.51) / 1.5 = 19.866...
        (225, Fraction(100), 10.0),  # r = 2.25: half
        (300, Fraction(100), 0.0),  # r = 3
        (900, Fraction(100), 0.0),
        (100, None, 20.0),  # no history
        (100, Fraction(0), 20.0),  # a history of instant runs
        (None, None, 0.0),  # never completed
    ],
)
def test_latency_scales_between_one_and_a_half_and_three_times_the_mean(
    latest: int | None, mean: Fraction | None, expected: float
) -> None:
    assert parts(latest_duration_seconds=latest, mean_duration_seconds=mean)["latency"] == expected


@pytest.mark.parametrize(
    ("interval", "age", "expected"),
    [
        (3600, 3600, 20.0),  # a = I
        (3600, 7200, 10.0),  # a = 2I
        (3600, 10800, 0.0),  # a = 3I
        (3600, 3601, 20.0),  # 20 x 7199 / 7200 = 19.997 -> 20.0
        (3600, 3780, 19.5),  # 20 x 7020 / 7200 = 19.5 exactly
        (3600, None, 0.0),  # never completed
        (None, 60, 20.0),  # no interval: a success is enough
        (None, None, 0.0),
    ],
)
def test_freshness_scales_between_one_and_three_intervals(
    interval: int | None, age: int | None, expected: float
) -> None:
    changes = {"expected_interval_seconds": interval, "seconds_since_last_success": age}
    assert parts(**changes)["freshness"] == expected


@pytest.mark.parametrize(
    ("value", "name"),
    [
        *[(100, "healthy"), (80, "healthy"), (79, "warning"), (60, "warning")],
        *[(59, "degraded"), (40, "degraded"), (39, "critical"), (0, "critical")],
    ],
)
def test_bands(value: int, name: str) -> None:
    assert band(value) == name


def test_the_score_rounds_the_exact_sum_half_up() -> None:
    # success 40 x 7/8 = 35, trend 10 (1 old, 1 new), latency 20, freshness 19.5 (a = 3780
    # of I = 3600): 84.5 rounds to 85 (round-half-even would give 84).
    changes = {"finished_runs_7d": 8, "completed_runs_7d": 7, "failed_old": 1, "failed_new": 1}
    result = health(inputs(**changes, seconds_since_last_success=3780), "active")
    assert result.score == 85 and result.status == "healthy"
    # 32.5 (13 of 16) + 10 + 20 + 17 (a = 1.3 I) = 79.5: rounds to 80, in the healthy band.
    changes = {"finished_runs_7d": 16, "completed_runs_7d": 13, "failed_old": 1, "failed_new": 1}
    result = health(inputs(**changes, seconds_since_last_success=4680), "active")
    assert result.score == 80 and result.status == "healthy"
    assert result.components is not None and result.components.freshness == 17.0


# --- the interval of a cron schedule ------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "zone", "at", "hours"),
    [
        # Daily at 02:00 in New York, the week of the spring change (2024-03-10): 02:00 does
        # not exist that day and runs at 03:00 EDT, 24 h after the 02:00 EST before it.
        ("0 2 * * *", NEW_YORK, utc(2024, 3, 12, 12), 24),
        # Daily at 01:30, the week of the autumn change (2024-11-03): 01:30 EDT to 01:30 EST
        # the next day is 25 hours.
        ("30 1 * * *", NEW_YORK, utc(2024, 11, 6, 12), 25),
        # Hourly over the autumn change: a job of every hour keeps to real time (as Debian
        # cron does), so both 01:00 EDT and 01:00 EST fire, an hour apart.
        ("0 * * * *", NEW_YORK, utc(2024, 11, 3, 9, 30), 1),
        # Weekdays at 09:00 (a week without a change): Friday to Monday is 72 hours.
        ("0 9 * * 1-5", NEW_YORK, utc(2024, 6, 20, 18), 72),
        ("0 9 * * 1-5", ZoneInfo("UTC"), utc(2024, 6, 20, 18), 72),
        # Every 4 hours, in a zone 5:30 ahead of UTC.
        ("0 */4 * * *", ZoneInfo("Asia/Kolkata"), utc(2024, 6, 20, 18), 4),
    ],
)
def test_a_cron_interval_is_the_longest_gap_of_the_8_latest_fire_times(
    schedule: str, zone: ZoneInfo, at: datetime, hours: int
) -> None:
    assert ScheduleIntervals().interval(schedule, zone, at) == hours * 3600


def test_a_fire_time_at_the_moment_itself_counts_as_at_or_before() -> None:
    # Every 6 hours: the 8 latest at 12:00 include 12:00; at 11:59:59 they do not, and the
    # interval is 6 h either way, but the cached validity must start at 12:00 exactly.
    intervals = ScheduleIntervals()
    assert intervals.interval("0 */6 * * *", ZoneInfo("UTC"), utc(2024, 6, 20, 12)) == 21600
    assert intervals.interval("0 */6 * * *", ZoneInfo("UTC"), utc(2024, 6, 20, 11, 59, 59)) == 21600


@pytest.mark.parametrize(
    "schedule", [None, "manual", "@daily", "61 * * * *", "0 0 30 2 *", "* * * *"]
)
def test_what_is_not_a_standard_cron_expression_has_no_interval(schedule: str | None) -> None:
    assert ScheduleIntervals().interval(schedule, NEW_YORK, NOW) is None


# --- sync-health on both databases --------------------------------------------------------


def _stored_runs(
    session: Any, workspace_id: uuid.UUID, sync_id: uuid.UUID, runs: list[Run]
) -> None:
    for run in runs:
        make_sync_run(
            session,
            workspace_id,
            sync_id,
            id=uuid.UUID(int=run.order),
            started_at=run.started_at,
            status=run.status,
            completed_at=run.completed_at,
        )


def _random_runs(rng: random.Random, count: int, first_order: int) -> list[Run]:
    """Runs over the 40 days before NOW (a few after it), ties in started_at included."""
    runs: list[Run] = []
    for index in range(count):
        started = NOW - timedelta(seconds=rng.randrange(-3 * 3600, 40 * 86400))
        if index and rng.random() < 0.1:
            started = runs[-1].started_at  # a tie, broken by order (the run's id)
        status = rng.choice(["completed"] * 6 + ["failed"] * 3 + ["cancelled", "running"])
        completed = (
            None if status == "running" else started + timedelta(seconds=rng.randrange(0, 4000))
        )
        runs.append(Run(started, status, completed, order=first_order + index))
    return runs


SCHEDULES: list[tuple[str | None, int | None, int | None]] = [
    # (schedule, sla_freshness_minutes, the interval they give, worked out by hand)
    (None, None, None),
    ("manual", None, None),
    ("0 */4 * * *", None, 4 * 3600),  # in UTC: every 4 hours
    ("0 */4 * * *", 90, 90 * 60),  # the SLA target wins over the schedule
    (None, 30, 30 * 60),
]


def test_sync_health_scores_match_the_contract_on_random_histories(db: Database) -> None:
    rng = random.Random(8_1)
    with db.session() as session, session.begin():
        workspace = make_workspace(session, timezone="UTC")
        expected = {}
        for number in range(24):
            schedule, minutes, interval = SCHEDULES[number % len(SCHEDULES)]
            status = "paused" if number % 11 == 10 else rng.choice(["active", "active", "error"])
            sync = make_sync(
                session,
                workspace.id,
                name=f"Sync {number:02d}",
                status=status,
                schedule=schedule,
                sla_freshness_minutes=minutes,
            )
            runs = _random_runs(rng, rng.choice([0, 1, 3, 12, 40]), number * 1000 + 1)
            _stored_runs(session, workspace.id, sync.id, runs)
            expected[sync.id] = (runs, interval, status)
    with db.read() as session:
        report = sync_health(session, workspace.id, days=7, now=NOW)
    seen: dict[str, int] = {}
    for entry in report.syncs:
        runs, interval, status = expected[entry.sync_id]
        assert (entry.health_score, entry.health_status) == oracle.score(
            runs, NOW, interval, status
        ), entry.sync_name
        if entry.health_score is not None:
            assert entry.health_components is not None
            assert entry.health_components.model_dump() == oracle.components(runs, NOW, interval)
        seen[entry.health_status] = seen.get(entry.health_status, 0) + 1
    assert report.health_statuses.model_dump() == {
        name: seen.get(name, 0)
        for name in ("healthy", "warning", "degraded", "critical", "no_data", "paused")
    }
    assert len(seen) >= 4  # the histories reach several bands


def test_the_score_reads_the_7_day_and_30_day_windows_at_their_edges(db: Database) -> None:
    """A run started exactly 7 days ago counts; one a second earlier does not; a failure
    exactly 3.5 days ago is a new one; the latency history includes its first instant."""
    week, half = NOW - timedelta(days=7), NOW - timedelta(days=3.5)
    latest = NOW - timedelta(hours=1)
    runs = [
        Run(week - timedelta(seconds=1), "failed", week, order=1),  # before the week
        Run(week, "failed", week + timedelta(seconds=5), order=2),  # old half, first instant
        Run(half, "failed", half + timedelta(seconds=5), order=3),  # new half, first instant
        Run(
            latest - timedelta(days=30),
            "completed",
            latest - timedelta(days=30, seconds=-100),
            order=4,
        ),
        Run(
            latest - timedelta(days=30, seconds=1),
            "completed",
            latest - timedelta(days=30, seconds=1) + timedelta(seconds=900),
            order=5,
        ),
        Run(latest, "completed", latest + timedelta(seconds=240), order=6),
    ]
    with db.session() as session, session.begin():
        workspace = make_workspace(session, timezone="UTC")
        sync = make_sync(session, workspace.id, schedule=None)
        _stored_runs(session, workspace.id, sync.id, runs)
    with db.read() as session:
        entry = sync_health(session, workspace.id, days=7, now=NOW).syncs[0]
        detail = sync_detail(session, workspace.id, sync.id, days=7, now=NOW)
    # Finished in the week: runs 2, 3 and 6 (one completed of three): 40/3 = 13.3.
    # Failures: one old (run 2), one new (run 3): 10. Latency: run 6 took 240 s against the
    # mean of run 4 alone (100 s; run 5 started a second too early): r = 2.4 -> 8.0.
    assert entry.health_components is not None
    assert entry.health_components.model_dump() == {
        "success": 13.3,
        "error_trend": 10.0,
        "latency": 8.0,
        "freshness": 20.0,
    }
    assert entry.health_components.model_dump() == oracle.components(runs, NOW, None)
    assert detail.health_inputs.model_dump() == {
        "finished_runs_7d": 3,
        "completed_runs_7d": 1,
        "failed_old": 1,
        "failed_new": 1,
        "latest_duration_seconds": 240,
        "mean_duration_seconds": 100.0,
        "expected_interval_seconds": None,
        "seconds_since_last_success": 3600 - 240,
    }


@pytest.mark.parametrize("zone_name", ["UTC", "America/New_York"])
def test_score_history_scores_the_end_of_each_date_with_the_runs_finished_by_then(
    db: Database, zone_name: str
) -> None:
    rng = random.Random(86)
    zone = ZoneInfo(zone_name)
    runs = _random_runs(rng, 60, 1)
    with db.session() as session, session.begin():
        workspace = make_workspace(session, timezone=zone_name)
        sync = make_sync(session, workspace.id, sla_freshness_minutes=240)
        _stored_runs(session, workspace.id, sync.id, runs)
    with db.read() as session:
        detail = sync_detail(session, workspace.id, sync.id, days=10, now=NOW)
    first = (NOW - timedelta(days=10)).astimezone(zone).date()
    expected = []
    day = first
    while day <= NOW.astimezone(zone).date():
        midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
        end = min(midnight, NOW)
        value, _ = oracle.score(runs, end, 240 * 60, finished_by_now=True)
        expected.append({"date": day.isoformat(), "health_score": value})
        day += timedelta(days=1)
    assert [point.model_dump(mode="json") for point in detail.score_history] == expected
    assert detail.score_history[-1].health_score == detail.health_score or any(
        run.completed_at is not None and run.completed_at > NOW for run in runs
    )
