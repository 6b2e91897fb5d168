"""Workspace summary: counts by status, today's rows, and the members of active audiences."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from insights.members import union_cardinality
from insights.models import (
    Audience,
    Destination,
    Loader,
    LoaderRun,
    Model,
    Source,
    Sync,
    SyncRun,
)
from insights.reports.common import latest_size_probe, resolve_now, today_bounds, workspace_zone
from insights.reports.sums import exact_sum
from insights.schemas.base import ResponseModel, example


class SourceCounts(ResponseModel):
    total: int
    connected: int
    error: int


class ModelCounts(ResponseModel):
    total: int
    active: int


class DestinationCounts(ResponseModel):
    total: int
    connected: int
    error: int


class SyncCounts(ResponseModel):
    total: int
    active: int
    paused: int
    error: int
    rows_synced_today: int


class AudienceCounts(ResponseModel):
    total: int
    active: int
    total_members: int


class LoaderCounts(ResponseModel):
    total: int
    active: int
    rows_loaded_today: int


class SummaryResponse(ResponseModel):
    model_config = example(
        {
            "sources": {"total": 3, "connected": 3, "error": 0},
            "models": {"total": 12, "active": 10},
            "destinations": {"total": 8, "connected": 7, "error": 1},
            "syncs": {
                "total": 15,
                "active": 12,
                "paused": 2,
                "error": 1,
                "rows_synced_today": 45000,
            },
            "audiences": {"total": 20, "active": 18, "total_members": 125000},
            "loaders": {"total": 4, "active": 3, "rows_loaded_today": 28000},
        }
    )

    sources: SourceCounts
    models: ModelCounts
    destinations: DestinationCounts
    syncs: SyncCounts
    audiences: AudienceCounts
    loaders: LoaderCounts


def summary(
    session: Session, workspace_id: uuid.UUID, *, now: datetime | None = None
) -> SummaryResponse:
    """The workspace at a glance; "today" is the calendar day in the workspace's zone."""
    start, end = today_bounds(resolve_now(now), workspace_zone(session, workspace_id))

    def counts(table: Any, *statuses: str) -> dict[str, int]:
        by_status = _status_counts(session, table, workspace_id)
        return {"total": by_status.total()} | {status: by_status[status] for status in statuses}

    return SummaryResponse(
        sources=SourceCounts(**counts(Source, "connected", "error")),
        models=ModelCounts(**counts(Model, "active")),
        destinations=DestinationCounts(**counts(Destination, "connected", "error")),
        syncs=SyncCounts(  # model syncs and audience-syncs alike
            **counts(Sync, "active", "paused", "error"),
            rows_synced_today=_rows_synced(session, workspace_id, start, end),
        ),
        audiences=AudienceCounts(
            **counts(Audience, "active"), total_members=_total_members(session, workspace_id)
        ),
        loaders=LoaderCounts(
            **counts(Loader, "active"),
            rows_loaded_today=_rows_loaded(session, workspace_id, start, end),
        ),
    )


def _status_counts(session: Session, table: Any, workspace_id: uuid.UUID) -> Counter[str]:
    query = (
        select(table.status, func.count())
        .where(table.workspace_id == workspace_id)
        .group_by(table.status)
    )
    return Counter({status: int(count) for status, count in session.execute(query)})


def _rows_synced(session: Session, workspace_id: uuid.UUID, start: datetime, end: datetime) -> int:
    rows = exact_sum(
        session, "rows", SyncRun.rows_created, SyncRun.rows_updated, SyncRun.rows_deleted
    )
    query = select(*rows.columns).where(
        SyncRun.workspace_id == workspace_id,
        SyncRun.status == "completed",
        SyncRun.completed_at >= start,
        SyncRun.completed_at < end,
    )
    return int(rows.value(session.execute(query).one()))  # a Decimal on PostgreSQL


def _rows_loaded(session: Session, workspace_id: uuid.UUID, start: datetime, end: datetime) -> int:
    rows = exact_sum(session, "rows", LoaderRun.rows_loaded)
    query = select(*rows.columns).where(
        LoaderRun.workspace_id == workspace_id,
        LoaderRun.status == "completed",
        LoaderRun.completed_at >= start,
        LoaderRun.completed_at < end,
    )
    return int(rows.value(session.execute(query).one()))


def _total_members(session: Session, workspace_id: uuid.UUID) -> int:
    """Distinct keys across the active audiences' current members, plus the latest size of
    each active audience that has no member list (its members are unknown, so the size is
    the best count there is; an audience never evaluated adds nothing)."""
    active = list(
        session.scalars(
            select(Audience.id).where(
                Audience.workspace_id == workspace_id, Audience.status == "active"
            )
        )
    )
    distinct, without_members = union_cardinality(session, workspace_id, active)
    if not without_members:
        return distinct
    sizes = select(latest_size_probe()).where(
        Audience.workspace_id == workspace_id, Audience.id.in_(without_members)
    )
    return distinct + sum(int(size) for size in session.scalars(sizes) if size is not None)
