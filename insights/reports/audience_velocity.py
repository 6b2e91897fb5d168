"""Audience velocity (contract 8.5): how many members the audiences' evaluations of a
window added and removed, per evaluation and per local date."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.models import Audience, AudienceEvaluation
from insights.reports.common import round_half_up, window_start, workspace_zone
from insights.reports.params import selected
from insights.reports.sync_health import score_moment
from insights.schemas.base import ResponseModel, example
from insights.types import ID


class VelocityPoint(ResponseModel):
    date: dt.date
    evaluations: int
    added: int
    removed: int


class AudienceVelocity(ResponseModel):
    audience_id: ID
    audience_name: str
    evaluations: int
    members_added: int
    members_removed: int
    net_change: int
    change_velocity: float | None
    data_points: list[VelocityPoint]


class AudienceVelocityResponse(ResponseModel):
    model_config = example(
        {
            "audiences": [
                {
                    "audience_id": "0b5d3f4e-1c2a-4d6b-8e9f-1a2b3c4d5e6f",
                    "audience_name": "High-Value Customers",
                    "evaluations": 12,
                    "members_added": 2400,
                    "members_removed": 1900,
                    "net_change": 500,
                    "change_velocity": 358.3,
                    "data_points": [
                        {"date": "2024-01-14", "evaluations": 1, "added": 200, "removed": 150}
                    ],
                }
            ]
        }
    )

    audiences: list[AudienceVelocity]


def audience_velocity(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    days: int,
    audience_ids: Sequence[uuid.UUID] | None,
    now: dt.datetime | None = None,
) -> AudienceVelocityResponse:
    """Churn of the given audiences (in that order), or of every audience by name."""
    audiences = selected(session, workspace_id, Audience, audience_ids)
    chosen = None if audience_ids is None else [row.id for row in audiences]
    start = window_start(score_moment(now), days)
    zone = workspace_zone(session, workspace_id)
    points: dict[uuid.UUID, dict[dt.date, list[int]]] = defaultdict(dict)
    for audience_id, evaluated_at, added, removed in session.execute(
        _changes(workspace_id, chosen, start)
    ):
        day = points[audience_id].setdefault(evaluated_at.astimezone(zone).date(), [0, 0, 0])
        day[0], day[1], day[2] = day[0] + 1, day[1] + added, day[2] + removed
    return AudienceVelocityResponse(
        audiences=[_entry(row, points.get(row.id, {})) for row in audiences]
    )


def _changes(
    workspace_id: uuid.UUID, audience_ids: list[uuid.UUID] | None, start: dt.datetime
) -> Any:
    """The window's evaluations that know their change (both counts not null)."""
    table = AudienceEvaluation
    query = select(
        table.audience_id, table.evaluated_at, table.members_added, table.members_removed
    ).where(
        table.workspace_id == workspace_id,
        table.evaluated_at >= start,
        table.members_added.is_not(None),
        table.members_removed.is_not(None),
    )
    if audience_ids is not None:
        query = query.where(table.audience_id.in_(audience_ids))
    return query


def _entry(row: Any, days: dict[dt.date, list[int]]) -> AudienceVelocity:
    evaluations = sum(day[0] for day in days.values())
    added = sum(day[1] for day in days.values())
    removed = sum(day[2] for day in days.values())
    return AudienceVelocity(
        audience_id=row.id,
        audience_name=row.name,
        evaluations=evaluations,
        members_added=added,
        members_removed=removed,
        net_change=added - removed,
        change_velocity=round_half_up(added + removed, evaluations, 1),
        data_points=[
            VelocityPoint(date=date, evaluations=day[0], added=day[1], removed=day[2])
            for date, day in sorted(days.items())
        ],
    )
