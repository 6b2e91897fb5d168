"""Report parameters (days, audience IDs, loading audiences) and the shared report helpers."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from insights.errors import BadRequest, NotFound
from insights.reports.common import (
    round_half_up,
    round_half_up_int,
    today_bounds,
    window_start,
)
from insights.reports.params import load_audiences, parse_audience_ids, parse_days
from insights.types import OutTimestamp
from tests.support.databases import Database
from tests.support.factories import make_audience, make_workspace

A = "6f1c2f0e-4a55-4c1e-9d7e-0a8f0d1e2b3c"
B = "0b9e4a7d-2c31-4f6a-8e5d-3c2b1a0f9e8d"
C = "c3d2e1f0-a9b8-4c7d-8e6f-5a4b3c2d1e0f"
LA = "America/Los_Angeles"


@pytest.mark.parametrize(("raw", "expected"), [(None, 7), ("1", 1), ("30", 30), ("365", 365)])
def test_days_accepts_whole_numbers_from_1_to_365(raw: str | None, expected: int) -> None:
    assert parse_days(raw, 7) == expected


@pytest.mark.parametrize("raw", ["7.0", "abc", "0", "366", "", "-1", " 7", "1e2", "٣"])
def test_days_outside_1_to_365_or_not_a_whole_number_is_400(raw: str) -> None:
    with pytest.raises(BadRequest, match="days"):
        parse_days(raw, 7)


def test_audience_ids_keep_the_order_given_and_come_out_lowercase() -> None:
    assert parse_audience_ids(f"{A.upper()}, {B},{C}") == [uuid.UUID(A), uuid.UUID(B), uuid.UUID(C)]
    ids = parse_audience_ids(A.upper())
    assert ids is not None
    assert str(ids[0]) == A


def test_repeated_audience_id_appears_once_at_its_first_position() -> None:
    assert parse_audience_ids(f"{B},{A},{B.upper()}") == [uuid.UUID(B), uuid.UUID(A)]


def test_repeated_audience_id_is_400_when_repeats_are_not_allowed() -> None:
    with pytest.raises(BadRequest, match=f"audience_ids.*{B}"):
        parse_audience_ids(f"{A},{B},{B}", allow_repeats=False)


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_absent_audience_ids_mean_none_unless_required(raw: str | None) -> None:
    assert parse_audience_ids(raw) is None
    with pytest.raises(BadRequest, match="audience_ids"):
        parse_audience_ids(raw, required=True)


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", A[:-1], A.replace("-", ""), "{" + A + "}", f"urn:uuid:{A}", ""]
)
def test_malformed_audience_id_is_400_naming_it(bad: str) -> None:
    with pytest.raises(BadRequest, match="audience_ids") as error:
        parse_audience_ids(f"{A},{bad}")
    assert repr(bad) in error.value.message


def test_audience_id_counts_are_checked_on_distinct_ids() -> None:
    with pytest.raises(BadRequest, match="at least 2"):
        parse_audience_ids(f"{A},{A.upper()}", required=True, min_count=2)
    many = ",".join(str(uuid.UUID(int=i)) for i in range(21))
    with pytest.raises(BadRequest, match="at most 20"):
        parse_audience_ids(many, required=True, min_count=2, max_count=20, allow_repeats=False)
    assert len(parse_audience_ids(many.rsplit(",", 1)[0], required=True, max_count=20)) == 20


def test_load_audiences_returns_them_in_the_order_given(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        first = make_audience(session, workspace_id, name="Z first").id
        second = make_audience(session, workspace_id, name="A second").id
    with db.read() as session:
        names = [a.name for a in load_audiences(session, workspace_id, [first, second])]
    assert names == ["Z first", "A second"]


def test_load_audiences_404_names_first_unknown_or_foreign_id(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        own = make_audience(session, workspace_id).id
        other = make_workspace(session, name="Other")
        foreign = make_audience(session, other.id).id
    unknown = uuid.UUID(C)
    with db.read() as session:
        with pytest.raises(NotFound, match=str(foreign)):
            load_audiences(session, workspace_id, [own, foreign, unknown])
        with pytest.raises(NotFound, match=str(unknown)):
            load_audiences(session, workspace_id, [unknown, foreign])


@pytest.mark.parametrize(
    ("numerator", "denominator", "places", "expected"),
    [
        (1, 8, 2, 0.13),  # 0.125: a binary float would round it down
        (7, 8, 2, 0.88),
        (2, 3, 2, 0.67),
        (1, 3, 2, 0.33),
        (-7, 8, 2, -0.88),  # halves round away from zero
        (753, 1000, 1, 0.8),  # 0.753 -> 0.8
        (3, 40, 1, 0.1),  # 0.075 -> 0.1
        (0, 5, 2, 0.0),
        (5, 5, 2, 1.0),
        (Decimal("1.005"), 1, 2, 1.01),
    ],
)
def test_round_half_up_works_on_the_exact_value(
    numerator: int | Decimal, denominator: int, places: int, expected: float
) -> None:
    assert round_half_up(numerator, denominator, places) == expected


def test_a_rounded_value_is_the_float_nearest_its_decimal() -> None:
    # The rounded decimal is turned into a float by an int division: the nearest float to
    # the decimal, the one its text parses to, for every size of value.
    rng = random.Random(13)
    for _ in range(20_000):
        numerator = rng.randrange(-(10 ** rng.randrange(1, 18)), 10 ** rng.randrange(1, 18))
        denominator = rng.randrange(1, 10 ** rng.randrange(1, 12))
        places = rng.randrange(0, 4)
        rounded = round_half_up(numerator, denominator, places)
        with localcontext(prec=80):  # exact enough: no quotient here is near 80 digits
            exact = Decimal(numerator) / Decimal(denominator)
            expected = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        assert rounded == float(str(expected)), (numerator, denominator, places)


def test_rounding_with_a_zero_denominator_is_none() -> None:
    assert round_half_up(1, 0, 2) is None
    assert round_half_up_int(0, 0) is None


@pytest.mark.parametrize(("numerator", "expected"), [(201, 101), (199, 100), (-201, -101)])
def test_round_half_up_int_rounds_halves_away_from_zero(numerator: int, expected: int) -> None:
    assert round_half_up_int(numerator, 2) == expected


def test_window_start_is_days_times_24_hours_before_now() -> None:
    now = datetime(2024, 3, 12, 9, 30, 15, tzinfo=UTC)
    assert window_start(now, 7) == datetime(2024, 3, 5, 9, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "now", "start", "end"),
    [
        ("UTC", "2024-01-15T00:00:00", "2024-01-15T00:00:00", "2024-01-16T00:00:00"),
        # 03:00 UTC is still the evening before in Los Angeles (UTC-8 in January).
        (LA, "2024-01-15T03:00:00", "2024-01-14T08:00:00", "2024-01-15T08:00:00"),
        ("Asia/Tokyo", "2024-01-15T15:00:00", "2024-01-15T15:00:00", "2024-01-16T15:00:00"),
        # 10 March 2024 in Los Angeles has 23 hours; 3 November has 25.
        (LA, "2024-03-10T20:00:00", "2024-03-10T08:00:00", "2024-03-11T07:00:00"),
        (LA, "2024-11-03T20:00:00", "2024-11-03T07:00:00", "2024-11-04T08:00:00"),
        # Santiago skipped midnight on 8 September 2024: the day began at 01:00 (UTC-3).
        ("America/Santiago", "2024-09-08T12:00:00", "2024-09-08T04:00:00", "2024-09-09T03:00:00"),
    ],
)  # fmt: skip
def test_today_bounds_are_local_midnights_in_utc(zone: str, now: str, start: str, end: str) -> None:
    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    assert today_bounds(utc(now), ZoneInfo(zone)) == (utc(start), utc(end))


def test_timestamps_serialise_as_utc_whole_seconds_with_z() -> None:
    class Stamp(BaseModel):
        at: OutTimestamp
        on: date

    tokyo = datetime(2024, 1, 16, 0, 0, 0, 999999, tzinfo=ZoneInfo("Asia/Tokyo"))
    dumped = Stamp(at=tokyo, on=date(2024, 1, 5)).model_dump(mode="json")
    assert dumped == {"at": "2024-01-15T15:00:00Z", "on": "2024-01-05"}
