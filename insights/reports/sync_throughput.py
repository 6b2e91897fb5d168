"""Sync throughput (contract 8.3): rows per second of each sync's completed runs of a
window (those that took time), the latest run's rate against the rest, and per date; read
per local day (reports.local_days), the latest run by one index probe per sync."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session
from typing_extensions import TypedDict

from insights import cycle_collector
from insights.models import Sync, SyncRun
from insights.reports.common import half_up_units_of_arrays, round_half_up, window_start
from insights.reports.day_columns import DayColumns, exact_rows, joined_rows
from insights.reports.local_days import window_columns
from insights.reports.params import selected
from insights.reports.run_series import Ints, segment_sums
from insights.reports.sql import duration_seconds
from insights.reports.sums import HALF_BITS, halves
from insights.reports.sync_duration import KEY, chosen_ids
from insights.reports.sync_health import score_moment
from insights.schemas.base import ResponseModel, built, example
from insights.types import ID

READ = ("day", "timed_runs", "duration_sum", "timed_rows_high", "timed_rows_low")
ROW_HALVES = ("timed_rows_high", "timed_rows_low")


class ThroughputPoint(TypedDict):
    """A plain dict, as sync_duration's points."""

    date: dt.date
    runs: int
    rows_synced: int
    rows_per_second: float | None


class SyncThroughput(ResponseModel):
    sync_id: ID
    sync_name: str
    runs: int
    rows_synced: int
    avg_rows_per_second: float | None
    current_rows_per_second: float | None
    baseline_rows_per_second: float | None
    change_percent: float | None
    degraded: bool
    data_points: list[ThroughputPoint]


class SyncThroughputResponse(ResponseModel):
    model_config = example(
        {
            "syncs": [
                {
                    "sync_id": "6f1c2f0e-4a55-4c1e-9d7e-0a8f0d1e2b3c",
                    "sync_name": "Customers to Salesforce",
                    "runs": 28,
                    "rows_synced": 125000,
                    "avg_rows_per_second": 30.8,
                    "current_rows_per_second": 12.1,
                    "baseline_rows_per_second": 31.5,
                    "change_percent": -61.6,
                    "degraded": True,
                    "data_points": [
                        {
                            "date": "2024-01-14",
                            "runs": 4,
                            "rows_synced": 18000,
                            "rows_per_second": 29.4,
                        }
                    ],
                }
            ]
        }
    )

    syncs: list[SyncThroughput]


def sync_throughput(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    days: int,
    sync_ids: Sequence[uuid.UUID] | None,
    now: dt.datetime | None = None,
    with_points: bool = True,
) -> SyncThroughputResponse:
    """Throughput of the given syncs (in that order), or of every sync; without the daily
    points if asked (the alert on degraded throughput needs only the rates)."""
    now = score_moment(now)
    start = window_start(now, days)
    syncs = selected(session, workspace_id, Sync, sync_ids, KEY, latest_run(start))
    with cycle_collector.paused():  # as sync_duration's
        found = window_columns(session, workspace_id, chosen_ids(syncs, sync_ids), start, now, READ)
        totals = dict(zip(found.keys, _totals(found), strict=True))
        points, parts = _points(found) if with_points else ([], [])
        at = dict(zip(found.keys, parts, strict=False))
        return SyncThroughputResponse.model_construct(
            syncs=_entries(syncs, [totals.get(row.key, (0, 0, 0)) for row in syncs], points, at)
        )


def latest_run(start: dt.datetime) -> Any:
    """SQL, per sync row: `latest`, the rows (32-bit halves) and seconds of its latest
    counted run (latest started_at, then the larger id) as one text "high,low,seconds"
    (read by latest_of): one index probe per sync, where two values took two; the halves
    stay exact where the rows' sum would pass int64."""
    duration = duration_seconds(SyncRun.started_at, SyncRun.completed_at)
    high, low = halves(SyncRun.rows_created, SyncRun.rows_updated, SyncRun.rows_deleted)
    text = [cast(value, String) for value in (high, low, duration)]
    joined = text[0] + "," + text[1] + "," + text[2]
    return (
        select(joined)
        .where(
            SyncRun.workspace_id == Sync.workspace_id,
            SyncRun.sync_id == Sync.id,
            SyncRun.status == "completed",
            SyncRun.started_at >= start,
            SyncRun.completed_at > SyncRun.started_at,
        )
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(1)
        .correlate(Sync)
        .scalar_subquery()
        .label("latest")
    )


def latest_of(text: str) -> tuple[int, int]:
    """(rows, seconds) of latest_run's text."""
    high, low, seconds = (int(value) for value in text.split(","))
    return (high << HALF_BITS) + low, seconds


class Rate(NamedTuple):
    """rows / seconds (seconds not 0), kept as the two integers: exact, as a Fraction, and
    without building one per rate of a thousand syncs."""

    rows: int
    seconds: int

    def one_place(self) -> float | None:
        return round_half_up(self.rows, self.seconds, 1)

    def against(self, baseline: Rate) -> tuple[float | None, bool]:
        """(change_percent, degraded) of this rate against `baseline` (rows not 0): the
        percent (self / baseline - 1) x 100, and whether self < baseline / 2."""
        top, bottom = self.rows * baseline.seconds, self.seconds * baseline.rows  # self/base
        change = round_half_up((top - bottom) * 100, bottom, 1)
        # r/s < R/(2S) exactly when (2rS - Rs) has the opposite sign of sS.
        below_half = (2 * self.rows * baseline.seconds - baseline.rows * self.seconds) * (
            self.seconds * baseline.seconds
        ) < 0
        return change, below_half


def rate(rows: int, seconds: int) -> Rate | None:
    return None if seconds == 0 else Rate(rows, seconds)


def _entries(
    syncs: list[Any],
    totals: list[tuple[int, int, int]],
    points: list[ThroughputPoint],
    at: dict[Any, tuple[int, int]],
) -> list[SyncThroughput]:
    """Each sync's entry (`totals`: its rows, seconds and timed runs), the rates of every
    sync rounded at once (_one_place)."""
    # A run of 0 seconds adds nothing to the seconds: the day's duration sum is the timed
    # runs' seconds.
    timed = [n for n, total in enumerate(totals) if total[2]]
    latest = {n: latest_of(syncs[n].latest) for n in timed}
    baselines = {
        n: rate(totals[n][0] - latest[n][0], totals[n][1] - latest[n][1])
        for n in timed
        if totals[n][2] > 1
    }
    based = [n for n, found in baselines.items() if found is not None]
    average = dict(zip(timed, _one_place([totals[n][:2] for n in timed]), strict=True))
    current = dict(zip(timed, _one_place([latest[n] for n in timed]), strict=True))
    base = dict(zip(based, _one_place([tuple(baselines[n] or ()) for n in based]), strict=True))
    entries = []
    for n, row in enumerate(syncs):
        baseline = baselines.get(n)
        change, degraded = None, False
        if baseline is not None and baseline.rows:
            change, degraded = Rate(*latest[n]).against(baseline)
        fields = {
            "sync_id": row.id,
            "sync_name": row.name,
            "runs": totals[n][2],
            "rows_synced": totals[n][0],
            "avg_rows_per_second": average.get(n),
            "current_rows_per_second": current.get(n),
            "baseline_rows_per_second": base.get(n),
            "change_percent": change,
            "degraded": degraded,
            "data_points": points[slice(*at.get(row.key, (0, 0)))],
        }
        entries.append(built(SyncThroughput, fields))  # built without validation
    return entries


def _one_place(pairs: list[tuple[int, ...]]) -> list[float | None]:
    """rows / seconds of each (rows, seconds) to 1 decimal, half-up (None for 0 seconds):
    in numpy while int64 holds them (_rates), else one by one."""
    rows = [pair[0] for pair in pairs]
    try:
        joined, seconds = np.array(rows, np.int64), np.array([p[1] for p in pairs], np.int64)
    except OverflowError:
        return [round_half_up(r, s, 1) for r, s in pairs]
    if not len(seconds) or int(seconds.min()) <= 0:
        return [round_half_up(r, s, 1) for r, s in pairs]
    return _rates(joined, rows, seconds)


def _totals(found: DayColumns) -> list[tuple[int, int, int]]:
    """Per sync: the rows, seconds and count of its timed runs."""
    columns, bounds = found.columns, found.bounds
    joined = joined_rows(columns["timed_rows_high"], columns["timed_rows_low"])
    if joined is not None:
        rows = segment_sums(joined, bounds)
    else:
        exact = exact_rows(columns)
        rows = [sum(exact[begin:end]) for begin, end in found.parts()]
    seconds = segment_sums(columns["duration_sum"], bounds)
    counts = segment_sums(columns["timed_runs"], bounds)
    return list(zip(rows, seconds, counts, strict=True))


def _points(found: DayColumns) -> tuple[list[ThroughputPoint], list[tuple[int, int]]]:
    """The points of every sync's days with a timed run, one sync after another, and
    (begin, end) of each sync's."""
    columns = found.columns
    kept = columns["timed_runs"] > 0
    at = np.flatnonzero(kept)
    counts, seconds = columns["timed_runs"][at], columns["duration_sum"][at]
    joined = joined_rows(columns["timed_rows_high"][at], columns["timed_rows_low"][at])
    rows = exact_rows({name: columns[name][at] for name in ROW_HALVES})
    dates = found.dates()
    points: list[ThroughputPoint] = [
        {"date": date, "runs": count, "rows_synced": synced, "rows_per_second": per_second}
        for date, count, synced, per_second in zip(
            [dates[n] for n in at.tolist()] if len(at) < len(dates) else dates,
            counts.tolist(),
            rows,
            _rates(joined, rows, seconds),
            strict=True,
        )
    ]
    ends = np.concatenate([[0], np.cumsum(kept)])[found.bounds].tolist()
    return points, list(pairwise(ends))


def _rates(joined: Ints | None, rows: list[int], seconds: Ints) -> list[float | None]:
    """rows / seconds of each day (seconds > 0) to 1 decimal, half-up: in numpy while
    20 x rows fits int64 and the tenths a float (below 2**53), else one by one."""
    small = int(seconds.max(initial=0)) < 2**61
    if joined is not None and small and int(joined.max(initial=0)) < 2**58:
        tenths = half_up_units_of_arrays(joined, seconds, 1)
        if int(tenths.max(initial=0)) < 2**53:
            rates: list[float | None] = (tenths / 10).tolist()
            return rates
    return [round_half_up(r, s, 1) for r, s in zip(rows, seconds.tolist(), strict=True)]
