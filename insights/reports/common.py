"""Helpers every report shares: exact rounding, windows, time zones, timestamps and probes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, ScalarSelect, case, select
from sqlalchemy.orm import Session

from insights.errors import NotFound
from insights.models import Audience, AudienceEvaluation, Workspace
from insights.reports.sql import whole_days

Number = int | Decimal | Fraction
RowT = TypeVar("RowT", bound="Named")


class Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def id(self) -> uuid.UUID: ...


def name_key(name: str, object_id: uuid.UUID) -> tuple[str, uuid.UUID]:
    """The contract's order of named things: name, then ID, in code-point order whatever
    the database's collation. A UUID orders as its text does (both by its 128-bit number),
    without writing the text of every ID of a thousand-row report."""
    return name, object_id


def by_name(rows: Iterable[RowT]) -> list[RowT]:
    """`rows` (anything with a name and an id) sorted by name then ID."""
    return sorted(rows, key=lambda row: name_key(row.name, row.id))


def _half_up_units(numerator: Number, denominator: Number, places: int) -> int:
    """numerator / denominator in units of 10**-places, rounded half away from zero.

    Integer arithmetic on the exact ratio, so 0.125 really is a half and rounds up to 0.13
    (a float would hold 0.12499...). Plain ints, not Fraction: this runs per row."""
    if type(numerator) is int and type(denominator) is int:  # the common case, per row
        top, bottom = numerator * 10**places, denominator
    else:
        top, top_den = numerator.as_integer_ratio()
        bottom, bottom_den = denominator.as_integer_ratio()
        top, bottom = top * bottom_den * 10**places, bottom * top_den
    if bottom < 0:
        top, bottom = -top, -bottom
    units, rest = divmod(abs(top), bottom)
    if 2 * rest >= bottom:
        units += 1
    return int(-units if top < 0 else units)


def half_up_units_of_arrays(
    numerators: NDArray[np.int64], denominators: NDArray[np.int64], places: int
) -> NDArray[np.int64]:
    """_half_up_units of each pair at once (numerators >= 0, denominators > 0), exact in
    int64 while 2 x numerator x 10**places stays inside it (the callers' counts and sums)."""
    scale: int = 10**places
    halved: NDArray[np.int64] = (2 * scale * numerators + denominators) // (2 * denominators)
    return halved


def round_half_up(numerator: Number, denominator: Number, places: int) -> float | None:
    """The exact quotient rounded half-up to `places` decimals; None when dividing by 0.
    (int / int is correctly rounded: the float nearest the decimal, as float(Decimal).)"""
    if denominator == 0:
        return None
    scale: int = 10**places
    return _half_up_units(numerator, denominator, places) / scale


def round_half_up_int(numerator: Number, denominator: Number) -> int | None:
    """The exact quotient rounded half-up to a whole number; None when dividing by 0."""
    if denominator == 0:
        return None
    return _half_up_units(numerator, denominator, 0)


def resolve_now(now: datetime | None) -> datetime:
    """`now` as aware UTC, the current time when not given."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(UTC)


def window_start(now: datetime, days: int) -> datetime:
    """The first instant of the last `days` x 24 hours: events at or after it are in.

    The contract's rule has no upper bound, so a timestamp after `now` (a clock ahead of
    ours, a backfill) is in the window too rather than silently dropped."""
    return now - timedelta(days=days)


def workspace_zone(session: Session, workspace_id: uuid.UUID) -> ZoneInfo:
    """The workspace's IANA time zone, which decides calendar dates and "today"."""
    name = session.scalar(select(Workspace.timezone).where(Workspace.id == workspace_id))
    if name is None:
        raise NotFound(f"Workspace {workspace_id} does not exist.")
    return ZoneInfo(name)


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone`.

    Where a DST change skips midnight, fold=0 resolves it with the offset in force before
    the change, which lands on the first local time that does exist that day."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def today_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the calendar day that contains `now` in `zone`.

    The end is the next day's midnight, not start + 24h, so 23- and 25-hour days are right."""
    today = now.astimezone(zone).date()
    return local_midnight_utc(today, zone), local_midnight_utc(today + timedelta(days=1), zone)


def latest_size_probe() -> ScalarSelect[Any]:
    """The size of an audience's latest evaluation, correlated to the outer `Audience` row.

    One index probe per audience. Equal `evaluated_at` (whole seconds) are broken by the
    microsecond `created_at`, then by id, so the answer never depends on the plan."""
    return (
        select(AudienceEvaluation.size)
        .where(
            AudienceEvaluation.workspace_id == Audience.workspace_id,
            AudienceEvaluation.audience_id == Audience.id,
        )
        .order_by(
            AudienceEvaluation.evaluated_at.desc(),
            AudienceEvaluation.created_at.desc(),
            AudienceEvaluation.id.desc(),
        )
        .limit(1)
        .correlate(Audience)
        .scalar_subquery()
    )


EPOCH_DATE = date(1970, 1, 1)
_OFFSET_STEP = timedelta(hours=6)  # no zone changes its offset twice within 6 hours


def utc_offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """The zone's UTC offset over [start, end] as (from epoch second, offset seconds)
    pieces, the first from the beginning of time: a few pieces a year (DST changes)."""

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    pieces = [(0, offset(start))]
    moment = start
    while moment < end:
        following = min(moment + _OFFSET_STEP, end)
        if offset(following) != pieces[-1][1]:
            changed = _first_second_with(offset, moment, following, offset(following))
            pieces.append((int(changed.timestamp()), offset(changed)))
        moment = following
    return pieces


def _first_second_with(offset: Any, low: datetime, high: datetime, target: int) -> datetime:
    """The first whole second in (low, high] whose offset is `target` (bisection)."""
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if offset(middle) == target:
            high = middle
        else:
            low = middle
    return high


def local_day(
    epoch: ColumnElement[int], zone: ZoneInfo, start: datetime, end: datetime
) -> ColumnElement[int]:
    """SQL: the local calendar day (days since 1970-01-01) of an epoch-seconds expression,
    for moments in [start, end] (and after it, at the last offset)."""
    pieces = utc_offsets(zone, start, end)
    local: ColumnElement[int] = epoch + pieces[-1][1]
    if len(pieces) > 1:
        later = [(epoch < begins, epoch + offset) for (_, offset), (begins, _) in pairwise(pieces)]
        local = case(*later, else_=epoch + pieces[-1][1])
    return whole_days(local)


def day_date(number: int) -> date:
    """The date of a local_day number."""
    return EPOCH_DATE + timedelta(days=number)
