"""Audience trends: local dates, latest-per-date, windows, changes, order and isolation."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from insights.errors import NotFound
from insights.models import Audience, Workspace
from insights.reports.audience_trends import _latest_of_each_day, audience_trends
from tests.support.databases import Database
from tests.support.factories import make_audience, make_evaluation, make_workspace

NOW = datetime(2024, 1, 15, 12, 0, 0, tzinfo=UTC)  # days=7: the window opens 2024-01-08 12:00:00
CREATED = datetime(2024, 2, 1, tzinfo=UTC)  # insertion times, only to order same-second ties


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 1, day, hour, minute, second, tzinfo=UTC)


def _set_zone(session: Session, workspace_id: uuid.UUID, zone: str) -> None:
    session.execute(update(Workspace).where(Workspace.id == workspace_id).values(timezone=zone))


Point = tuple[datetime, int] | tuple[datetime, int, int, int]


def _evaluate(
    session: Session, workspace_id: uuid.UUID, audience: Audience, *points: Point
) -> None:
    """(evaluated_at, size) or (evaluated_at, size, created_at offset in microseconds, id)."""
    for evaluated_at, size, *tie in points:
        fields: dict[str, datetime | uuid.UUID] = (
            {"created_at": CREATED + timedelta(microseconds=tie[0])} if tie else {}
        )
        fields |= {"id": uuid.UUID(int=tie[1])} if tie else {}
        make_evaluation(
            session, workspace_id, audience.id, evaluated_at=evaluated_at, size=size, **fields
        )


def _high_value(session: Session, workspace_id: uuid.UUID) -> Audience:
    """Evaluations in Los Angeles time (UTC-8), inserted out of order on purpose."""
    audience = make_audience(session, workspace_id, name="High-Value")
    _evaluate(
        session, workspace_id, audience,
        (at(8, 11, 59, 59), 999),  # one second before the window: out
        (at(12, 20), 135),  # 12:00 local on the 12th, inserted before the earlier 130
        (at(8, 12), 100),  # exactly at the window start: in; 04:00 local on the 8th
        (at(10, 7, 59, 59), 110),  # 23:59:59 local on the 9th
        (at(10, 8), 120),  # 00:00 local on the 10th
        (at(12, 18), 130),
        # The same second: the later insertion wins, although its id is the smaller.
        (at(13, 18), 145, 2, 1),
        (at(13, 18), 140, 1, 2),
        (at(11, 18), 125),  # a size-only backfill, inserted last
    )  # fmt: skip
    return audience


def _build(db: Database, workspace_id: uuid.UUID) -> dict[str, uuid.UUID]:
    with db.session() as session, session.begin():
        _set_zone(session, workspace_id, "America/Los_Angeles")
        audiences = {"high_value": _high_value(session, workspace_id)}

        def audience(key: str, name: str, *points: Point) -> None:
            audiences[key] = make_audience(session, workspace_id, name=name)
            _evaluate(session, workspace_id, audiences[key], *points)

        audience("growing", "Growing", (at(9, 20), 800), (at(14, 20), 807))
        audience("shrinking", "Shrinking", (at(9, 20), 800), (at(14, 20), 793))
        audience("from_zero", "From zero", (at(9, 20), 0), (at(10, 20), 50))
        audience("never", "Never evaluated")
        audience("old", "Only old", (at(1), 70))
        audience("single", "Single point", (at(14, 20), 33))
        audience("lower", "growing", (at(14, 20), 1))
        other = make_workspace(session, name="Other")
        foreign = make_audience(session, other.id, name="Aardvark")
        _evaluate(session, other.id, foreign, (at(14), 5000), (at(15), 6000))
        return {key: a.id for key, a in audiences.items()} | {"foreign": foreign.id}


def _report(
    db: Database, workspace_id: uuid.UUID, ids: list[uuid.UUID] | None = None, days: int = 7
) -> list[dict[str, Any]]:
    with db.read() as session:
        report = audience_trends(session, workspace_id, days=days, audience_ids=ids, now=NOW)
    trends: list[dict[str, Any]] = report.model_dump(mode="json")["audiences"]
    return trends


def _trend(db: Database, workspace_id: uuid.UUID, audience_id: uuid.UUID) -> dict[str, Any]:
    (trend,) = _report(db, workspace_id, [audience_id])
    return trend


def test_one_point_per_local_date_carrying_its_latest_evaluation(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    assert _trend(db, workspace_id, ids["high_value"]) == {
        "audience_id": str(ids["high_value"]),
        "audience_name": "High-Value",
        "data_points": [
            {"date": "2024-01-08", "size": 100},
            {"date": "2024-01-09", "size": 110},
            {"date": "2024-01-10", "size": 120},
            {"date": "2024-01-11", "size": 125},
            {"date": "2024-01-12", "size": 135},
            {"date": "2024-01-13", "size": 145},
        ],
        "current_size": 145,
        "change_absolute": 45,
        "change_percent": 45.0,
    }


@pytest.mark.parametrize(
    ("key", "absolute", "percent"), [("growing", 7, 0.88), ("shrinking", -7, -0.88)]
)
def test_change_percent_rounds_half_up(
    db: Database, workspace_id: uuid.UUID, key: str, absolute: int, percent: float
) -> None:
    ids = _build(db, workspace_id)
    trend = _trend(db, workspace_id, ids[key])
    assert (trend["change_absolute"], trend["change_percent"]) == (absolute, percent)  # 7 / 800


def test_change_percent_is_null_when_first_size_is_zero(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    trend = _trend(db, workspace_id, ids["from_zero"])
    assert trend["data_points"] == [
        {"date": "2024-01-09", "size": 0},
        {"date": "2024-01-10", "size": 50},
    ]
    assert (trend["current_size"], trend["change_absolute"], trend["change_percent"]) == (
        50,
        50,
        None,
    )


def test_audience_never_evaluated_has_no_points_and_nulls(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    assert _trend(db, workspace_id, ids["never"]) == {
        "audience_id": str(ids["never"]),
        "audience_name": "Never evaluated",
        "data_points": [],
        "current_size": None,
        "change_absolute": None,
        "change_percent": None,
    }


def test_current_size_comes_from_any_time_even_outside_the_window(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    trend = _trend(db, workspace_id, ids["old"])
    assert (trend["data_points"], trend["current_size"]) == ([], 70)
    assert (trend["change_absolute"], trend["change_percent"]) == (None, None)
    single = _trend(db, workspace_id, ids["single"])
    assert (single["change_absolute"], single["change_percent"]) == (0, 0.0)


def test_default_is_every_audience_sorted_by_name_then_id_in_code_point_order(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    order = [trend["audience_id"] for trend in _report(db, workspace_id)]
    expected = ["from_zero", "growing", "high_value", "never", "old", "shrinking", "single"]
    assert order == [str(ids[key]) for key in [*expected, "lower"]]


def test_given_ids_keep_their_order_and_a_repeat_appears_once(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    given = [ids["single"], ids["growing"], ids["single"], ids["never"]]
    order = [trend["audience_id"] for trend in _report(db, workspace_id, given)]
    assert order == [str(ids["single"]), str(ids["growing"]), str(ids["never"])]


def test_unknown_or_other_workspace_audience_is_404_naming_it(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    with pytest.raises(NotFound, match=str(ids["foreign"])):
        _report(db, workspace_id, [ids["growing"], ids["foreign"]])
    unknown = uuid.uuid4()
    with pytest.raises(NotFound, match=str(unknown)):
        _report(db, workspace_id, [unknown])


def test_other_workspace_evaluations_never_show(db: Database, workspace_id: uuid.UUID) -> None:
    ids = _build(db, workspace_id)
    listed = {trend["audience_id"] for trend in _report(db, workspace_id)}
    assert str(ids["foreign"]) not in listed
    assert len(listed) == 8


def test_dates_follow_the_workspace_zone_east_of_utc(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        _set_zone(session, workspace_id, "Asia/Tokyo")  # UTC+9
        audience = make_audience(session, workspace_id, name="Tokyo")
        _evaluate(session, workspace_id, audience, (at(10, 14, 59, 59), 1), (at(10, 15), 2))
    trend = _trend(db, workspace_id, audience.id)
    assert trend["data_points"] == [
        {"date": "2024-01-10", "size": 1},  # 23:59:59 local
        {"date": "2024-01-11", "size": 2},  # midnight local
    ]


def test_utc_workspace_dates_are_utc_dates(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id, name="UTC")
        _evaluate(session, workspace_id, audience, (at(10, 23, 59, 59), 1), (at(11), 2))
    trend = _trend(db, workspace_id, audience.id)
    assert [p["date"] for p in trend["data_points"]] == ["2024-01-10", "2024-01-11"]


def test_longer_window_takes_in_older_evaluations(db: Database, workspace_id: uuid.UUID) -> None:
    ids = _build(db, workspace_id)
    (trend,) = _report(db, workspace_id, [ids["old"]], days=30)
    # 2024-01-01 00:00 UTC is 16:00 on 31 December in Los Angeles.
    assert trend["data_points"] == [{"date": "2023-12-31", "size": 70}]
    assert (trend["change_absolute"], trend["change_percent"]) == (0, 0.0)


# Zones with daylight saving, 30- and 45-minute offsets, and clocks set back across
# midnight (Havana ended DST at 01:00 -> 00:00; Santiago at 00:00 -> 23:00 the day before).
RANDOM_ZONES = (
    "Asia/Kolkata",  # a 30-minute offset, no changes: every date only goes forward
    "Pacific/Chatham",  # a 45-minute offset with daylight saving
    "America/Havana",
    "America/Santiago",
)


@pytest.mark.parametrize("zone", RANDOM_ZONES)
def test_random_histories_match_a_plain_reading_of_every_evaluation(
    db: Database, workspace_id: uuid.UUID, zone: str
) -> None:
    """Each point is the size of the latest evaluation (by evaluated_at, then insertion)
    of its local date, reading the evaluations one by one with the zone's own conversion:
    around every offset change of two years, and ties within a second."""
    rng = random.Random(zone)
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    history: dict[uuid.UUID, list[tuple[datetime, int, int]]] = {}
    with db.session() as session, session.begin():
        _set_zone(session, workspace_id, zone)
        changes = _offset_changes(ZoneInfo(zone), now - timedelta(days=400), now)
        for number in range(4):
            audience = make_audience(session, workspace_id, name=f"Random {number}")
            moments = [now - timedelta(seconds=rng.randrange(400 * 86400)) for _ in range(60)]
            moments += [
                change + timedelta(seconds=rng.randrange(-7200, 7200)) for change in changes
            ]
            moments += moments[:5]  # same-second ties, ordered by their insertion
            for order, moment in enumerate(moments):
                size = rng.randrange(10_000)
                created = CREATED + timedelta(microseconds=order)
                make_evaluation(
                    session, workspace_id, audience.id, evaluated_at=moment, size=size,
                    created_at=created,
                )  # fmt: skip
                history.setdefault(audience.id, []).append((moment, order, size))
    for days in (1, 30, 365):
        with db.read() as session:
            report = audience_trends(session, workspace_id, days=days, audience_ids=None, now=now)
        start = now - timedelta(days=days)
        for trend in report.audiences:
            latest: dict[date, int] = {}
            for moment, _, size in sorted(history[trend.audience_id]):
                if moment.replace(microsecond=0) >= start:
                    latest[moment.astimezone(ZoneInfo(zone)).date()] = size
            expected = [{"date": day, "size": size} for day, size in sorted(latest.items())]
            assert trend.data_points == expected, (zone, days, trend.audience_name)


def _offset_changes(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The hours in [start, end] at whose end the zone's UTC offset differs from its start."""
    changes, moment = [], start
    while moment < end:
        if moment.astimezone(zone).utcoffset() != (moment + HOUR).astimezone(zone).utcoffset():
            changes.append(moment + HOUR)
        moment += HOUR
    return changes


HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("audiences", "days", "latest"),
    [
        ([0, 0, 0, 0, 1, 1], [5, 5, 6, 7, 3, 4], [1, 2, 3, 4, 5]),  # dates only go forward
        # A clock set back across midnight: the 5th again after the 6th began.
        ([0, 0, 0, 0, 1, 1], [5, 6, 5, 6, 3, 3], [2, 3, 5]),
        ([0], [9], [0]),
    ],
)
def test_the_latest_row_of_each_audience_and_day(
    audiences: list[int], days: list[int], latest: list[int]
) -> None:
    found = _latest_of_each_day(np.array(audiences), np.array(days))
    assert found.tolist() == latest
