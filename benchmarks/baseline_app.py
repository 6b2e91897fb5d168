"""The service plus the queries it answered before the sync-observability work, for the
benchmark's ratios ("the same query without the new work, in the same run"):

    GET /api/v1/workspaces/{id}/bench/published-sync-health?days=N[&sync_id=...]

is sync-health's published fields (contract 5.1) as they were computed before the health
score: one window scan and three probes per sync, no score. Serve it with
INSIGHTS_BENCH_APP=benchmarks.baseline_app:create_app."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from sqlalchemy import ScalarSelect, Select, and_, case, func, select, true
from sqlalchemy.orm import Session

from insights.app import create_app as create_service
from insights.db import is_sqlite
from insights.models import Sync, SyncRun
from insights.reports.sql import duration_seconds
from insights.settings import Settings
from insights.web.deps import ReadAccess, SessionDep

FINISHED = ("completed", "failed")
router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}/bench")


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service(settings)
    app.include_router(router)
    return app


@router.get("/published-sync-health")
def published_sync_health(
    workspace_id: uuid.UUID,
    access: ReadAccess,
    session: SessionDep,
    days: int = 7,
    sync_id: Annotated[uuid.UUID | None, Query()] = None,
) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(days=days)
    stats = _window_stats(session, access.workspace_id, start, sync_id)
    rows = session.execute(_syncs_query(access.workspace_id, sync_id)).all()
    return {
        "syncs": [
            {
                "sync_id": str(row.id),
                "name": row.name,
                "last": row.last_status,
                **stats.get(row.id, {}),
            }
            for row in sorted(rows, key=lambda row: (row.name, str(row.id)))
        ]
    }


def _of_sync(query: Select[Any]) -> ScalarSelect[Any]:
    runs_of_sync = (SyncRun.workspace_id == Sync.workspace_id, SyncRun.sync_id == Sync.id)
    return query.where(*runs_of_sync).correlate(Sync).scalar_subquery()


def _latest_run(column: Any, statuses: tuple[str, ...] = ()) -> ScalarSelect[Any]:
    query = select(column)
    if statuses:
        query = query.where(SyncRun.status.in_(statuses))
    return _of_sync(query.order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(1))


def _syncs_query(workspace_id: uuid.UUID, sync_id: uuid.UUID | None) -> Any:
    query = select(
        Sync.id,
        Sync.name,
        Sync.status,
        _latest_run(SyncRun.status).label("last_status"),
        _of_sync(select(func.max(SyncRun.started_at))).label("last_started_at"),
        _latest_run(SyncRun.status, FINISHED).label("last_finished_status"),
    ).where(Sync.workspace_id == workspace_id)
    return query if sync_id is None else query.where(Sync.id == sync_id)


def _window_stats(
    session: Session, workspace_id: uuid.UUID, start: datetime, sync_id: uuid.UUID | None
) -> dict[uuid.UUID, dict[str, int]]:
    completed = SyncRun.status == "completed"
    rows_synced = SyncRun.rows_created + SyncRun.rows_updated + SyncRun.rows_deleted
    duration = case((completed, duration_seconds(SyncRun.started_at, SyncRun.completed_at)))
    aggregates = (
        func.count().label("total_runs"),
        func.sum(case((SyncRun.status == "failed", 1), else_=0)).label("failed_runs"),
        func.sum(case((completed, rows_synced), else_=0)).label("rows_synced"),
        func.sum(duration).label("duration_sum"),
        func.count(case((completed, SyncRun.completed_at))).label("durations"),
    )
    in_window = (
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.started_at >= start,
        SyncRun.status.in_(FINISHED),
    )
    if is_sqlite(session):
        query = select(Sync.id, *aggregates).join(SyncRun, and_(*in_window)).group_by(Sync.id)
    else:
        per_sync = select(*aggregates).where(*in_window).lateral()
        query = select(Sync.id, *per_sync.c).join(per_sync, true())
    query = query.where(Sync.workspace_id == workspace_id)
    if sync_id is not None:
        query = query.where(Sync.id == sync_id)
    return {
        row.id: {name: int(row._mapping[name] or 0) for name in row._mapping if name != "id"}
        for row in session.execute(query)
    }
