"""The sync detail page (contract 8.6): one sync's score and its four parts in words, its
score history, durations and throughput per day as charts, its SLA state and latest runs."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from insights.dashboard.charts.daily import Band, Scale, Series, daily_chart, legend
from insights.dashboard.charts.plots import Frame
from insights.dashboard.formats import duration
from insights.dashboard.health_words import score_parts, unscored_words
from insights.dashboard.views import api_url
from insights.reports import params
from insights.reports.health_score import BANDS
from insights.reports.sync_detail import SyncDetailResponse, sync_detail
from insights.types import parse_uuid

KINDS = {"sync": "Model sync", "audience_sync": "Audience-sync"}
SCORE_TICKS = (0, 20, 40, 60, 80, 100)
# The full width of the page, with room on the right for the bands' names.
SCORE_FRAME = Frame(width=1120, height=230, right=84)
# Seconds shown in the unit that keeps the axis readable: below 2 minutes in seconds...
SECONDS_UNITS = ((120, 1, "seconds"), (7200, 60, "minutes"), (None, 3600, "hours"))


def sync_detail_form(raw_days: str | None) -> dict[str, Any]:
    """What a refused request shows: the window form with what was sent."""
    return {"form_days": raw_days, "api_urls": []}


def sync_detail_page(
    session: Session, workspace_id: uuid.UUID, raw_sync_id: str, raw_days: str | None
) -> dict[str, Any]:
    sync_id = parse_uuid(raw_sync_id, "sync ID")
    days = params.parse_days(raw_days, params.OBSERVABILITY_DAYS)
    detail = sync_detail(session, workspace_id, sync_id, days=days)
    sla_minutes = detail.sla.sla_freshness_minutes if detail.sla else None
    components = detail.health_components
    return {
        "detail": detail,
        "days": days,
        "kind": KINDS.get(detail.sync_kind, detail.sync_kind),
        "parts": []
        if components is None
        else score_parts(detail.health_inputs, components, detail.schedule, sla_minutes),
        "unscored": None if components is not None else unscored_words(detail.health_status),
        "unscored_days": sum(1 for p in detail.score_history if p.health_score is None),
        **detail_charts(detail),
        "runs": [
            (run, run.rows_created + run.rows_updated + run.rows_deleted)
            for run in detail.recent_runs
        ],
        "api_urls": [api_url(workspace_id, f"syncs/{sync_id}", days=days)],
    }


def detail_charts(detail: SyncDetailResponse) -> dict[str, Any]:
    """The three charts over every date of the window, and the legends of two of them."""
    # One point per date of the window (8.6), so its first and last are the window's.
    first, last = detail.score_history[0].date, detail.score_history[-1].date
    duration_series = _duration_series(detail)
    throughput_series = _throughput_series(detail)
    name = detail.sync_name
    return {
        "score_chart": daily_chart(
            first,
            last,
            [_score_series(detail)],
            f"Health score of {name} at the end of each day",
            Scale("score", ticks=SCORE_TICKS),
            score_bands(),
            SCORE_FRAME,
        ),
        "duration_chart": daily_chart(
            first,
            last,
            duration_series,
            f"Duration of the completed runs of {name} per day",
            seconds_scale(detail.duration.max_duration_seconds or 0),
        ),
        "duration_legend": legend(duration_series),
        "throughput_chart": daily_chart(
            first,
            last,
            throughput_series,
            f"Rows per second of the completed runs of {name} per day",
            Scale("rows per second", whole=False),
        ),
        "throughput_legend": legend(throughput_series),
    }


def score_bands() -> list[Band]:
    """The score's bands (contract 8.1) as stripes: 80-100 healthy, ..., 0-39 critical."""
    tops = [100] + [floor for floor, _ in BANDS[:-1]]
    return [
        Band(floor, top, name.capitalize(), f"band-{name}")
        for (floor, name), top in zip(BANDS, tops, strict=True)
    ]


def _score_series(detail: SyncDetailResponse) -> Series:
    values = {p.date: p.health_score for p in detail.score_history}
    return Series("health score", "s-score", values, "line", text=_score_text)


def _score_text(value: float) -> str:
    score = int(value)
    return f"{score} ({next(name for floor, name in BANDS if score >= floor)})"


def _duration_series(detail: SyncDetailResponse) -> list[Series]:
    points = detail.duration.data_points
    return [
        Series(
            "average",
            "s-avg",
            {p["date"]: p["avg_duration_seconds"] for p in points},
            "bar",
            text=_duration_text,
        ),
        Series(
            "longest",
            "s-max",
            {p["date"]: p["max_duration_seconds"] for p in points},
            "mark",
            text=_duration_text,
        ),
    ]


def _duration_text(value: float) -> str:
    return duration(int(value))


def _throughput_series(detail: SyncDetailResponse) -> list[Series]:
    values = {p["date"]: p["rows_per_second"] for p in detail.throughput.data_points}
    return [Series("rows per second", "s-rate", values, "bar", text=_rate_text)]


def _rate_text(value: float) -> str:
    return f"{value:,.1f} rows/s"


def seconds_scale(longest: int) -> Scale:
    """An axis for durations up to `longest` seconds, in seconds, minutes or hours."""
    for limit, divisor, unit in SECONDS_UNITS:
        if limit is None or longest < limit:
            return Scale(unit, divisor=divisor, whole=divisor == 1)
    raise AssertionError("the last unit has no limit")
