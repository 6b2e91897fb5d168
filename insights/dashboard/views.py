"""What each dashboard page shows: the report functions' results, arranged for a template."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from insights.dashboard.charts.daily import Scale, Series, daily_chart, legend
from insights.dashboard.charts.plots import line_chart, stacked_bar
from insights.dashboard.formats import HEALTH_BANDS, number
from insights.models import Audience, MemberBitmap
from insights.reports import audience_trends, params, sync_health
from insights.reports.activation_coverage import activation_coverage
from insights.reports.audience_velocity import AudienceVelocity, audience_velocity
from insights.reports.common import (
    by_name,
    latest_size_probe,
    name_key,
    window_start,
    workspace_zone,
)
from insights.reports.health_score import STATUSES
from insights.reports.summary import summary
from insights.reports.sync_health import HealthStatuses, sync_health_and_failing
from insights.reports.sync_sla import sync_sla

# The API's defaults, so a page and its JSON twin agree.
DEFAULT_HEALTH_DAYS = sync_health.DEFAULT_DAYS
DEFAULT_TREND_DAYS = audience_trends.DEFAULT_DAYS
STATE_FILTERS = ("all", "healthy", "failing", "paused", "error")
BAND_FILTERS = ("all", *STATUSES)


def api_url(workspace_id: uuid.UUID, insight: str, **query: Any) -> str:
    """The JSON twin of a page: the Insights API call that returns the same numbers."""
    present = {name: value for name, value in query.items() if value is not None}
    suffix = "?" + urlencode(present) if present else ""
    return f"/api/v1/workspaces/{workspace_id}/insights/{insight}{suffix}"


def sync_state(status: str, sync_id: uuid.UUID, failing: set[uuid.UUID]) -> str:
    """One word for a sync's badge: healthy or failing (active syncs), paused or error."""
    if status == "active":
        return "failing" if sync_id in failing else "healthy"
    return status


def overview(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    facts = summary(session, workspace_id)
    health, failing = sync_health_and_failing(session, workspace_id, days=DEFAULT_HEALTH_DAYS)
    segments = [
        ("Active", facts.syncs.active, "state-healthy"),
        ("Paused", facts.syncs.paused, "state-paused"),
        ("Error", facts.syncs.error, "state-error"),
    ]
    return {
        "summary": facts,
        "health": health,
        "failing": [entry for entry in health.syncs if entry.sync_id in failing],
        "sync_bar": stacked_bar(segments, "Syncs by state"),
        "sync_segments": segments,
        "days": DEFAULT_HEALTH_DAYS,
        "api_urls": [
            api_url(workspace_id, "summary"),
            api_url(workspace_id, "sync-health", days=DEFAULT_HEALTH_DAYS),
        ],
    }


def sync_health_page(
    session: Session,
    workspace_id: uuid.UUID,
    raw_days: str | None,
    state: str,
    query: str,
    band: str = "all",
) -> dict[str, Any]:
    days = params.parse_days(raw_days, DEFAULT_HEALTH_DAYS)
    report, failing = sync_health_and_failing(session, workspace_id, days=days)
    rows = [(entry, sync_state(entry.status, entry.sync_id, failing)) for entry in report.syncs]
    needle = query.strip().casefold()
    shown = [
        (entry, badge)
        for entry, badge in rows
        if (state == "all" or badge == state)
        and (band == "all" or entry.health_status == band)
        and needle in entry.sync_name.casefold()
    ]
    segments = health_segments(report.health_statuses)
    return {
        "report": report,
        "rows": shown,
        "days": days,
        "health_bar": stacked_bar(segments, "Syncs by health score"),
        "health_segments": segments,
        "api_urls": [api_url(workspace_id, "sync-health", days=days)],
    }


def health_segments(counts: HealthStatuses) -> list[tuple[str, int, str]]:
    """The health statuses' counts as (word, count, css class), best band first."""
    return [(HEALTH_BANDS[name][1], getattr(counts, name), f"band-{name}") for name in STATUSES]


def sync_sla_page(
    session: Session, workspace_id: uuid.UUID, raw_days: str | None
) -> dict[str, Any]:
    days = params.parse_days(raw_days, params.OBSERVABILITY_DAYS)
    return {
        "report": sync_sla(session, workspace_id, days=days),
        "days": days,
        "api_urls": [api_url(workspace_id, "sync-sla", days=days)],
    }


@dataclass(frozen=True)
class AudienceChoice:
    """An audience as a form offers it: name, latest size, whether it has a member list."""

    id: uuid.UUID
    name: str
    size: int | None
    has_members: bool


def audience_choices(session: Session, workspace_id: uuid.UUID) -> list[AudienceChoice]:
    has_members = exists().where(
        MemberBitmap.workspace_id == Audience.workspace_id,
        MemberBitmap.audience_id == Audience.id,
    )
    query = select(
        Audience.id, Audience.name, latest_size_probe().label("size"), has_members.label("m")
    ).where(Audience.workspace_id == workspace_id)
    rows = by_name(session.execute(query))
    return [AudienceChoice(row.id, row.name, row.size, bool(row.m)) for row in rows]


def audience_trends_page(
    session: Session, workspace_id: uuid.UUID, raw_days: str | None, raw_ids: str | None
) -> dict[str, Any]:
    """Sizes over time (audience-trends) and the members added and removed over the same
    window (audience-velocity), for the same audiences."""
    days = params.parse_days(raw_days, DEFAULT_TREND_DAYS)
    ids = params.parse_audience_ids(raw_ids)
    report = audience_trends.audience_trends(session, workspace_id, days=days, audience_ids=ids)
    velocity = audience_velocity(session, workspace_id, days=days, audience_ids=ids)
    charts = {
        trend.audience_id: line_chart(
            [(point["date"], point["size"]) for point in trend.data_points],
            f"Size of {trend.audience_name} over the last {days} days",
        )
        for trend in report.audiences
    }
    window = local_window(session, workspace_id, days)
    joined = None if ids is None else ",".join(str(i) for i in ids)
    return {
        "report": report,
        "charts": charts,
        "velocity": velocity,
        "velocity_of": {entry.audience_id: entry for entry in velocity.audiences},
        "velocity_charts": {
            entry.audience_id: velocity_chart(entry, window) for entry in velocity.audiences
        },
        "days": days,
        "selected": set(ids or []),
        "api_urls": [
            api_url(workspace_id, "audience-trends", days=days, audience_ids=joined),
            api_url(workspace_id, "audience-velocity", days=days, audience_ids=joined),
        ],
    }


def local_window(session: Session, workspace_id: uuid.UUID, days: int) -> tuple[date, date]:
    """The first and last dates of the last `days` days in the workspace's time zone."""
    zone, now = workspace_zone(session, workspace_id), datetime.now(UTC)
    return window_start(now, days).astimezone(zone).date(), now.astimezone(zone).date()


def velocity_chart(entry: AudienceVelocity, window: tuple[date, date]) -> dict[str, Any]:
    """Members added (columns up) and removed (columns down) per date, with its legend."""
    dates = [point.date for point in entry.data_points]
    first, last = min([window[0], *dates]), max([window[1], *dates])
    series = [
        Series("added", "s-added", {p.date: p.added for p in entry.data_points}, "bar", _count),
        Series(
            "removed", "s-removed", {p.date: -p.removed for p in entry.data_points}, "bar", _count
        ),
    ]
    label = f"Members added and removed from {entry.audience_name} per day"
    return {
        "svg": daily_chart(
            first, last, series, label, Scale("members added (+) and removed (\u2212)")
        ),
        "legend": legend(series),
    }


def _count(value: float) -> str:
    return number(abs(int(value)))


def activation_coverage_page(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    report = activation_coverage(session, workspace_id)
    names: dict[uuid.UUID, str] = {a.audience_id: a.audience_name for a in report.unactivated}
    cells: dict[tuple[uuid.UUID, uuid.UUID], Any] = {}
    for destination in report.destinations:
        for covered in destination.audiences:
            names[covered.audience_id] = covered.audience_name
            cells[(covered.audience_id, destination.destination_id)] = covered
    rows = sorted(names.items(), key=lambda item: name_key(item[1], item[0]))
    return {
        "report": report,
        "rows": rows,
        "cells": cells,
        "unactivated_ids": {a.audience_id for a in report.unactivated},
        "empty_destinations": [d for d in report.destinations if d.audience_count == 0],
        "api_urls": [api_url(workspace_id, "activation-coverage")],
    }
