"""Audience trends: each audience's size per local calendar date over a window."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from typing_extensions import TypedDict

from insights import cycle_collector
from insights.models import Audience, AudienceEvaluation
from insights.reports.common import (
    latest_size_probe,
    resolve_now,
    round_half_up,
    window_start,
    workspace_zone,
)
from insights.reports.params import selected
from insights.reports.sql import driver_id, epoch_seconds
from insights.schemas.base import ResponseModel, example

DEFAULT_DAYS = 30  # the window when the request names none


class DataPoint(TypedDict):
    """A plain dict, not a model: an answer holds one per audience per date (180,000 for
    2,000 audiences over 90 days), and pydantic builds a dict ten times faster than a
    model instance. Its schema is the same."""

    date: dt.date
    size: int


class AudienceTrend(ResponseModel):
    audience_id: uuid.UUID
    audience_name: str
    data_points: list[DataPoint]
    current_size: int | None
    change_absolute: int | None
    change_percent: float | None


class AudienceTrendsResponse(ResponseModel):
    model_config = example(
        {
            "audiences": [
                {
                    "audience_id": "0b5d3f4e-1c2a-4d6b-8e9f-1a2b3c4d5e6f",
                    "audience_name": "High-Value Customers",
                    "data_points": [
                        {"date": "2024-01-01", "size": 4100},
                        {"date": "2024-01-08", "size": 4200},
                        {"date": "2024-01-15", "size": 4250},
                    ],
                    "current_size": 4250,
                    "change_absolute": 150,
                    "change_percent": 3.66,
                }
            ],
        }
    )

    audiences: list[AudienceTrend]


def audience_trends(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    days: int,
    audience_ids: list[uuid.UUID] | None,
    now: dt.datetime | None = None,
) -> AudienceTrendsResponse:
    """Size history of the given audiences (in that order), or of all of them by name."""
    zone = workspace_zone(session, workspace_id)
    audiences = selected(
        session,
        workspace_id,
        Audience,
        audience_ids,
        latest_size_probe().label("current_size"),
        audience_key.label("key"),
    )
    ids = None if audience_ids is None else [row.id for row in audiences]
    start = window_start(resolve_now(now), days)
    # As sync_duration's: 180,000 points at ten times the audiences, and no garbage.
    with cycle_collector.paused():
        points = _daily_points(session, workspace_id, ids, start, zone)
        # Plain values, validated once as a whole (in pydantic's core, not a model per point).
        return AudienceTrendsResponse.model_validate(
            {"audiences": [_trend(row, points.get(row.key, [])) for row in audiences]}
        )


# No UUID built per evaluation: matched with the same expression of the audience rows.
audience_key = driver_id(Audience.id)


def _daily_points(
    session: Session,
    workspace_id: uuid.UUID,
    audience_ids: list[uuid.UUID] | None,
    start: dt.datetime,
    zone: ZoneInfo,
) -> dict[Any, list[tuple[dt.date, int]]]:
    """Per audience (by its key), the size of each local date's latest evaluation in the
    window, by date."""
    evaluation = AudienceEvaluation
    query = (
        select(
            driver_id(evaluation.audience_id),
            epoch_seconds(evaluation.evaluated_at),  # whole seconds, as stored
            evaluation.size,
        )
        .where(evaluation.workspace_id == workspace_id, evaluation.evaluated_at >= start)
        # Per audience (its index's order: only ties of one second need sorting), ascending,
        # so the last one seen for a date is its latest; evaluations of the same second are
        # ordered by their microsecond created_at, then id.
        .order_by(
            evaluation.audience_id,
            evaluation.evaluated_at,
            evaluation.created_at,
            evaluation.id,
        )
    )
    if audience_ids is not None:
        query = query.where(evaluation.audience_id.in_(audience_ids))
    by_date: dict[Any, dict[dt.date, int]] = defaultdict(dict)
    # Core rows straight from the connection (the ORM layer adds a third per row here), all
    # at once: psycopg's fetch per row, as iterating a result does, cost a third more.
    for key, seconds, size in session.connection().execute(query).all():
        by_date[key][dt.datetime.fromtimestamp(seconds, zone).date()] = size
    return {key: sorted(sizes.items()) for key, sizes in by_date.items()}


def _trend(row: Any, points: list[tuple[dt.date, int]]) -> dict[str, Any]:
    change = points[-1][1] - points[0][1] if points else None
    percent = None if change is None else round_half_up(change * 100, points[0][1], 2)
    return {
        "audience_id": row.id,
        "audience_name": row.name,
        "data_points": [{"date": day, "size": size} for day, size in points],
        "current_size": row.current_size,
        "change_absolute": change,
        "change_percent": percent,
    }
