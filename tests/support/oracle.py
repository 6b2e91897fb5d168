"""An independent reading of contract section 8, written from its text with plain loops,
Fractions and zoneinfo, for tests to compare the reports with. It shares no code with
insights.reports: a mistake there cannot hide by being made twice.

Histories are plain lists of `Run` and `Evaluation`; times are aware UTC datetimes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Run:
    started_at: datetime
    status: str
    completed_at: datetime | None = None
    rows: int = 0  # rows synced (created + updated + deleted)
    order: int = 0  # breaks a tie in started_at the way the service does (larger id wins)

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")

    @property
    def seconds(self) -> int:
        assert self.completed_at is not None
        return int((self.completed_at - self.started_at).total_seconds())


@dataclass(frozen=True)
class Evaluation:
    evaluated_at: datetime
    added: int | None
    removed: int | None


def half_up(value: Fraction, places: int) -> float:
    """Half away from zero on the exact value: floor(|v| x 10^places + 1/2)."""
    units = math.floor(abs(value) * 10**places + Fraction(1, 2))
    return math.copysign(units / 10**places, value) if units else 0.0


def half_up_int(value: Fraction) -> int:
    return int(half_up(value, 0))


def latest(runs: list[Run]) -> Run | None:
    """The run with the latest started_at (the larger order on a tie)."""
    return max(runs, key=lambda run: (run.started_at, run.order), default=None)


# --- 8.1 ------------------------------------------------------------------------------


def score_parts(
    runs: list[Run], now: datetime, interval: int | None, *, finished_by_now: bool = False
) -> tuple[Fraction, Fraction, Fraction, Fraction] | None:
    """(success, error_trend, latency, freshness), or None when no run ever finished.
    `finished_by_now` keeps only runs completed at or before `now` (score_history)."""
    if finished_by_now:
        runs = [r for r in runs if r.completed_at is not None and r.completed_at <= now]
    finished = [r for r in runs if r.finished]
    if not finished:
        return None
    week = now - timedelta(days=7)
    recent = [r for r in finished if r.started_at >= week]
    if recent:
        success = Fraction(40 * sum(r.status == "completed" for r in recent), len(recent))
    else:
        last = latest(finished)
        success = Fraction(40 if last is not None and last.status == "completed" else 0)
    half = now - timedelta(days=3.5)
    old = sum(r.status == "failed" and week <= r.started_at < half for r in finished)
    new = sum(r.status == "failed" and half <= r.started_at <= now for r in finished)
    trend = Fraction(20 if new < old or new == old == 0 else 10 if new == old else 0)
    return success, trend, _latency(runs), _freshness(runs, now, interval)


def _latency(runs: list[Run]) -> Fraction:
    completed = [r for r in runs if r.status == "completed"]
    last = latest(completed)
    if last is None:
        return Fraction(0)
    history = [
        r
        for r in completed
        if last.started_at - timedelta(days=30) <= r.started_at < last.started_at
    ]
    if not history:
        return Fraction(20)
    mean = Fraction(sum(r.seconds for r in history), len(history))
    if mean == 0:
        return Fraction(20)
    ratio = last.seconds / mean
    if ratio <= Fraction(3, 2):
        return Fraction(20)
    if ratio >= 3:
        return Fraction(0)
    return 20 * (3 - ratio) / Fraction(3, 2)


def _freshness(runs: list[Run], now: datetime, interval: int | None) -> Fraction:
    successes = [r.completed_at for r in runs if r.status == "completed" and r.completed_at]
    if interval is None:
        return Fraction(20 if successes else 0)
    if not successes:
        return Fraction(0)
    age = Fraction(int((now - max(successes)).total_seconds()))
    if age <= interval:
        return Fraction(20)
    if age >= 3 * interval:
        return Fraction(0)
    return 20 * (3 * interval - age) / (2 * interval)


def score(
    runs: list[Run],
    now: datetime,
    interval: int | None,
    status: str = "active",
    *,
    finished_by_now: bool = False,
) -> tuple[int | None, str]:
    if status == "paused":
        return None, "paused"
    parts = score_parts(runs, now, interval, finished_by_now=finished_by_now)
    if parts is None:
        return None, "no_data"
    value = half_up_int(sum(parts, Fraction(0)))
    band = (
        "healthy"
        if value >= 80
        else "warning"
        if value >= 60
        else "degraded"
        if value >= 40
        else "critical"
    )
    return value, band


def components(runs: list[Run], now: datetime, interval: int | None) -> dict[str, float]:
    parts = score_parts(runs, now, interval)
    assert parts is not None
    names = ("success", "error_trend", "latency", "freshness")
    return {name: half_up(part, 1) for name, part in zip(names, parts, strict=True)}


# --- 8.2 and 8.3 ------------------------------------------------------------------------


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def window_completed(runs: list[Run], now: datetime, days: int) -> list[Run]:
    start = now - timedelta(days=days)
    return [r for r in runs if r.status == "completed" and r.started_at >= start]


def duration_entry(runs: list[Run], now: datetime, days: int, zone: ZoneInfo) -> dict[str, object]:
    counted = window_completed(runs, now, days)
    values = sorted(r.seconds for r in counted)

    def rank(percent: int) -> int | None:
        if not values:
            return None
        return values[math.ceil(Fraction(percent, 100) * len(values)) - 1]

    by_date: dict[date, list[int]] = {}
    for run in counted:
        by_date.setdefault(local_date(run.started_at, zone), []).append(run.seconds)
    return {
        "runs": len(values),
        "avg_duration_seconds": half_up_int(Fraction(sum(values), len(values))) if values else None,
        "p50_duration_seconds": rank(50),
        "p95_duration_seconds": rank(95),
        "max_duration_seconds": max(values) if values else None,
        "data_points": [
            {
                "date": day.isoformat(),
                "runs": len(seconds),
                "avg_duration_seconds": half_up_int(Fraction(sum(seconds), len(seconds))),
                "max_duration_seconds": max(seconds),
            }
            for day, seconds in sorted(by_date.items())
        ],
    }


def throughput_entry(
    runs: list[Run], now: datetime, days: int, zone: ZoneInfo
) -> dict[str, object]:
    counted = [r for r in window_completed(runs, now, days) if r.seconds > 0]

    def rate(group: list[Run]) -> Fraction | None:
        return (
            Fraction(sum(r.rows for r in group), sum(r.seconds for r in group)) if group else None
        )

    last = latest(counted)
    current = None if last is None else rate([last])
    baseline = rate([r for r in counted if r is not last]) if len(counted) > 1 else None
    change = None
    if current is not None and baseline:
        change = half_up((current - baseline) / baseline * 100, 1)
    by_date: dict[date, list[Run]] = {}
    for run in counted:
        by_date.setdefault(local_date(run.started_at, zone), []).append(run)

    def one(value: Fraction | None) -> float | None:
        return None if value is None else half_up(value, 1)

    return {
        "runs": len(counted),
        "rows_synced": sum(r.rows for r in counted),
        "avg_rows_per_second": one(rate(counted)),
        "current_rows_per_second": one(current),
        "baseline_rows_per_second": one(baseline),
        "change_percent": change,
        "degraded": bool(current is not None and baseline and current < baseline / 2),
        "data_points": [
            {
                "date": day.isoformat(),
                "runs": len(group),
                "rows_synced": sum(r.rows for r in group),
                "rows_per_second": one(rate(group)),
            }
            for day, group in sorted(by_date.items())
        ],
    }


# --- 8.4 ------------------------------------------------------------------------------


def freshness_by_second(
    runs: list[Run], now: datetime, days: int, minutes: int
) -> tuple[float, int, datetime | None, bool]:
    """(compliance %, breaches, stale_since, stale now) by looking at the middle of every
    second of the window: every completion and target is whole seconds, so a second's
    middle tells its whole inside. Slow, and as literal a reading of 8.4 as there is."""
    target = minutes * 60
    done = sorted(
        int(r.completed_at.timestamp()) for r in runs if r.status == "completed" and r.completed_at
    )
    begin, seconds = int(now.timestamp()) - days * 86400, days * 86400

    def stale(moment: float) -> bool:  # no completion in [moment - target, moment]
        return not any(moment - target <= c <= moment for c in done)

    stale_seconds, breaches, previous = 0, 0, False
    for step in range(seconds):
        inside = stale(begin + step + 0.5)
        stale_seconds += inside
        breaches += inside and not previous
        previous = inside
    stale_now = stale(float(begin + seconds))
    since = None
    if stale_now and done:
        since = datetime.fromtimestamp(done[-1] + target, UTC)
    return half_up(Fraction(seconds - stale_seconds, seconds) * 100, 1), breaches, since, stale_now


def freshness_by_pieces(
    runs: list[Run], now: datetime, days: int, minutes: int
) -> tuple[float, int, datetime | None, bool]:
    """As freshness_by_second, for windows of any length (see stale_by_pieces)."""
    target = minutes * 60
    done = sorted(
        int(r.completed_at.timestamp()) for r in runs if r.status == "completed" and r.completed_at
    )
    begin, end = int(now.timestamp()) - days * 86400, int(now.timestamp())
    stale_seconds, breaches, stale_now = stale_by_pieces(done, target, begin, end)
    since = datetime.fromtimestamp(done[-1] + target, UTC) if stale_now and done else None
    percent = half_up(Fraction(end - begin - stale_seconds, end - begin) * 100, 1)
    return percent, breaches, since, stale_now


def stale_by_pieces(done: list[int], target: int, begin: int, end: int) -> tuple[int, int, bool]:
    """(stale seconds, stale stretches, stale at `end`) of completions `done` over [begin,
    end]: staleness changes only at a completion c or at c + target, so the window is cut
    there and each piece's middle tells its whole inside; the stretches are the runs of
    stale pieces."""

    def stale(moment: Fraction) -> bool:  # no completion in [moment - target, moment]
        return not any(moment - target <= c <= moment for c in done)

    cuts = sorted({begin, end} | {m for c in done for m in (c, c + target) if begin < m < end})
    stale_seconds, breaches, previous = 0, 0, False
    for low, high in pairwise(cuts):
        inside = stale(Fraction(low + high, 2))
        stale_seconds += (high - low) * inside
        breaches += inside and not previous
        previous = inside
    return stale_seconds, breaches, stale(Fraction(end))


def sla_entry(
    runs: list[Run], now: datetime, days: int, minutes: int | None, limit: int | None
) -> dict[str, object]:
    """A sync-sla entry without its ID and name: freshness by pieces, the durations of the
    completed runs started in the window, the state from both."""
    entry: dict[str, object] = {"sla_freshness_minutes": minutes, "sla_duration_seconds": limit}
    stale_now = False
    fresh: tuple[object, ...] = (None, None, None)
    if minutes is not None:
        percent, breaches, since, stale_now = freshness_by_pieces(runs, now, days, minutes)
        fresh = (percent, breaches, None if since is None else f"{since:%Y-%m-%dT%H:%M:%SZ}")
    counted: tuple[object, ...] = (None, None, None)
    too_long = False
    if limit is not None:
        start = now - timedelta(days=days)
        durations = [r.seconds for r in runs if r.status == "completed" and r.started_at >= start]
        over = sum(1 for seconds in durations if seconds > limit)
        share = Fraction(len(durations) - over, len(durations)) * 100 if durations else None
        counted = (len(durations), over, None if share is None else half_up(share, 1))
        newest = latest([r for r in runs if r.status == "completed"])
        too_long = newest is not None and newest.seconds > limit
    keys = ("freshness_compliance_percent", "freshness_breaches", "stale_since")
    entry.update(zip(keys, fresh, strict=True))
    keys = ("duration_runs", "duration_breaches", "duration_compliance_percent")
    entry.update(zip(keys, counted, strict=True))
    entry["state"] = "breached" if stale_now or too_long else "met"
    return entry


# --- 8.5 ------------------------------------------------------------------------------


def velocity_entry(
    evaluations: list[Evaluation], now: datetime, days: int, zone: ZoneInfo
) -> dict[str, object]:
    start = now - timedelta(days=days)
    known = [
        e
        for e in evaluations
        if e.evaluated_at >= start and e.added is not None and e.removed is not None
    ]
    added = sum(e.added or 0 for e in known)
    removed = sum(e.removed or 0 for e in known)
    by_date: dict[date, list[Evaluation]] = {}
    for evaluation in known:
        by_date.setdefault(local_date(evaluation.evaluated_at, zone), []).append(evaluation)
    return {
        "evaluations": len(known),
        "members_added": added,
        "members_removed": removed,
        "net_change": added - removed,
        "change_velocity": half_up(Fraction(added + removed, len(known)), 1) if known else None,
        "data_points": [
            {
                "date": day.isoformat(),
                "evaluations": len(group),
                "added": sum(e.added or 0 for e in group),
                "removed": sum(e.removed or 0 for e in group),
            }
            for day, group in sorted(by_date.items())
        ],
    }


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
