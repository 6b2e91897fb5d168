"""Sync duration (contract 8.2): how long each sync's completed runs of a window took, with
nearest-rank percentiles, and per local date; read per local day (reports.local_days), as
columns of every sync at once (reports.day_columns)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy.orm import Session
from typing_extensions import TypedDict

from insights import cycle_collector
from insights.models import Sync
from insights.reports.common import round_half_up_int, window_start
from insights.reports.day_columns import DayColumns
from insights.reports.local_days import window_columns
from insights.reports.params import selected
from insights.reports.run_series import Ints, segment_sums
from insights.reports.sql import driver_id
from insights.reports.sync_health import score_moment
from insights.schemas.base import ResponseModel, built, example
from insights.types import ID

READ = ("day", "runs", "duration_sum", "duration_max", "durations")  # of day_lists.LISTED
KEY = driver_id(Sync.id).label("key")  # as local_days keys the syncs: no UUID built twice


class DurationPoint(TypedDict):
    """A plain dict, not a model: an answer holds one per sync per date (30,000 for 1,000
    syncs over 30 days), and pydantic builds a dict ten times faster than a model
    instance (as audience_trends' points). Its schema is the same."""

    date: dt.date
    runs: int
    avg_duration_seconds: int
    max_duration_seconds: int


class SyncDuration(ResponseModel):
    sync_id: ID
    sync_name: str
    runs: int
    avg_duration_seconds: int | None
    p50_duration_seconds: int | None
    p95_duration_seconds: int | None
    max_duration_seconds: int | None
    data_points: list[DurationPoint]


class SyncDurationResponse(ResponseModel):
    model_config = example(
        {
            "syncs": [
                {
                    "sync_id": "6f1c2f0e-4a55-4c1e-9d7e-0a8f0d1e2b3c",
                    "sync_name": "Customers to Salesforce",
                    "runs": 28,
                    "avg_duration_seconds": 145,
                    "p50_duration_seconds": 140,
                    "p95_duration_seconds": 230,
                    "max_duration_seconds": 260,
                    "data_points": [
                        {
                            "date": "2024-01-14",
                            "runs": 4,
                            "avg_duration_seconds": 150,
                            "max_duration_seconds": 200,
                        }
                    ],
                }
            ]
        }
    )

    syncs: list[SyncDuration]


def sync_duration(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    days: int,
    sync_ids: Sequence[uuid.UUID] | None,
    now: dt.datetime | None = None,
) -> SyncDurationResponse:
    """Durations of the given syncs' completed runs (in that order), or of every sync."""
    now = score_moment(now)
    syncs = selected(session, workspace_id, Sync, sync_ids, KEY)
    start = window_start(now, days)
    with cycle_collector.paused():
        found = window_columns(session, workspace_id, chosen_ids(syncs, sync_ids), start, now, READ)
        points = _points(found)
        totals = dict(zip(found.keys, _totals(found), strict=True))
        # Built without validation: every field is made here, of its type (1,000 entries of
        # 30 points each took pydantic a fifth of the answer's time to check again).
        return SyncDurationResponse.model_construct(
            syncs=[_entry(row, totals.get(row.key, NONE), points) for row in syncs]
        )


def chosen_ids(rows: list[Any], asked: Sequence[uuid.UUID] | None) -> list[uuid.UUID] | None:
    """The IDs to read: those asked for (checked, deduplicated), or None for every sync."""
    return None if asked is None else [row.id for row in rows]


def nearest_rank(ordered: Ints, percent: int) -> int:
    """The value at 1-based position ceil(percent / 100 x n) of ascending values."""
    position = -(-percent * len(ordered) // 100)
    return int(ordered[max(position, 1) - 1])


def _points(found: DayColumns) -> list[DurationPoint]:
    """Every sync's points, one after another (as the columns' rows), in one pass."""
    runs, sums = found.columns["runs"], found.columns["duration_sum"]
    if int(sums.max(initial=0)) < 2**61:  # 2 x sum + runs fits int64
        # Half-up: durations are >= 0.
        averages = ((2 * sums + runs) // (2 * runs)).tolist()
    else:
        pairs = zip(sums.tolist(), runs.tolist(), strict=True)
        averages = [(2 * seconds + count) // (2 * count) for seconds, count in pairs]
    return [
        {
            "date": date,
            "runs": count,
            "avg_duration_seconds": average,
            "max_duration_seconds": longest,
        }
        for date, count, average, longest in zip(
            found.dates(),
            runs.tolist(),
            averages,
            found.columns["duration_max"].tolist(),
            strict=True,
        )
    ]


class Totals(NamedTuple):
    """One sync's figures of the window, and where its points are (begin, end)."""

    runs: int
    seconds: int
    p50: int | None
    p95: int | None
    longest: int | None
    begin: int
    end: int


NONE = Totals(0, 0, None, None, None, 0, 0)


def _totals(found: DayColumns) -> list[Totals]:
    """Each sync's totals: counts, sums and maxima of its days, each a column of every sync
    at once; the percentiles from its own durations, sorted."""
    bounds, columns = found.bounds, found.columns
    runs = segment_sums(columns["runs"], bounds)
    seconds = segment_sums(columns["duration_sum"], bounds)
    longest = np.maximum.reduceat(columns["duration_max"], bounds[:-1]).tolist() if runs else []
    ordered = [np.sort(values) for values in found.durations or []]
    return [
        Totals(count, total, nearest_rank(values, 50), nearest_rank(values, 95), top, *part)
        for count, total, values, top, part in zip(
            runs, seconds, ordered, longest, found.parts(), strict=True
        )
    ]


def _entry(row: Any, totals: Totals, points: list[DurationPoint]) -> SyncDuration:
    fields = {
        "sync_id": row.id,
        "sync_name": row.name,
        "runs": totals.runs,
        "avg_duration_seconds": round_half_up_int(totals.seconds, totals.runs),
        "p50_duration_seconds": totals.p50,
        "p95_duration_seconds": totals.p95,
        "max_duration_seconds": totals.longest,
        "data_points": points[totals.begin : totals.end],
    }
    return built(SyncDuration, fields)
