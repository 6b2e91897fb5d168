"""The Insights endpoints (contract 5 and 8): thin wrappers over insights.reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from insights.reports import (
    activation_coverage,
    audience_overlap,
    audience_trends,
    audience_velocity,
    params,
    summary,
    sync_detail,
    sync_duration,
    sync_health,
    sync_sla,
    sync_throughput,
)
from insights.types import ID
from insights.web.deps import ReadAccess, SessionDep
from insights.web.openapi import ERROR_RESPONSES

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}/insights",
    tags=["insights"],
    responses=ERROR_RESPONSES,
)

# Raw strings, parsed by insights.reports.params, so the API and the dashboard refuse
# the same inputs with the same sentences.
Days = Annotated[str | None, Query(description="Window in days, an integer from 1 to 365.")]
AudienceIds = Annotated[str | None, Query(description="Comma-separated audience UUIDs.")]
SyncIds = Annotated[str | None, Query(description="Comma-separated sync UUIDs.")]
MinCount = Annotated[
    str | None, Query(description="Suppress member counts above 0 and below this (>= 1).")
]


@router.get("/sync-health", response_model=sync_health.SyncHealthResponse)
def get_sync_health(
    workspace_id: ID, access: ReadAccess, session: SessionDep, days: Days = None
) -> Any:
    """Health of every sync over the last `days` days (default 7)."""
    return sync_health.sync_health(
        session, access.workspace_id, days=params.parse_days(days, sync_health.DEFAULT_DAYS)
    )


@router.get("/audience-trends", response_model=audience_trends.AudienceTrendsResponse)
def get_audience_trends(
    workspace_id: ID,
    access: ReadAccess,
    session: SessionDep,
    days: Days = None,
    audience_ids: AudienceIds = None,
) -> Any:
    """Size of audiences per calendar date over the last `days` days (default 30)."""
    return audience_trends.audience_trends(
        session,
        access.workspace_id,
        days=params.parse_days(days, audience_trends.DEFAULT_DAYS),
        audience_ids=params.parse_audience_ids(audience_ids),
    )


@router.get("/activation-coverage", response_model=activation_coverage.ActivationCoverageResponse)
def get_activation_coverage(workspace_id: ID, access: ReadAccess, session: SessionDep) -> Any:
    """Which audiences reach which destinations, and which reach none."""
    return activation_coverage.activation_coverage(session, access.workspace_id)


@router.get("/audience-overlap", response_model=audience_overlap.AudienceOverlapResponse)
def get_audience_overlap(
    workspace_id: ID,
    access: ReadAccess,
    session: SessionDep,
    audience_ids: AudienceIds = None,
    min_count: MinCount = None,
) -> Any:
    """Overlap of 2 to 20 audiences' current members: sizes, pairs, regions."""
    return audience_overlap.audience_overlap(
        session,
        access.workspace_id,
        audience_ids=audience_overlap.parse_overlap_ids(audience_ids),
        min_count=params.parse_min_count(min_count),
    )


@router.get("/summary", response_model=summary.SummaryResponse)
def get_summary(workspace_id: ID, access: ReadAccess, session: SessionDep) -> Any:
    """The workspace at a glance: counts by status, today's rows, members."""
    return summary.summary(session, access.workspace_id)


@router.get("/sync-duration", response_model=sync_duration.SyncDurationResponse)
def get_sync_duration(
    workspace_id: ID,
    access: ReadAccess,
    session: SessionDep,
    days: Days = None,
    sync_ids: SyncIds = None,
) -> Any:
    """How long each sync's completed runs took: mean, percentiles, per date."""
    return sync_duration.sync_duration(
        session,
        access.workspace_id,
        days=params.parse_days(days, params.OBSERVABILITY_DAYS),
        sync_ids=params.parse_sync_ids(sync_ids),
    )


@router.get("/sync-throughput", response_model=sync_throughput.SyncThroughputResponse)
def get_sync_throughput(
    workspace_id: ID,
    access: ReadAccess,
    session: SessionDep,
    days: Days = None,
    sync_ids: SyncIds = None,
) -> Any:
    """Rows per second of each sync, the latest run's against the rest, per date."""
    return sync_throughput.sync_throughput(
        session,
        access.workspace_id,
        days=params.parse_days(days, params.OBSERVABILITY_DAYS),
        sync_ids=params.parse_sync_ids(sync_ids),
    )


@router.get("/sync-sla", response_model=sync_sla.SyncSlaResponse)
def get_sync_sla(
    workspace_id: ID, access: ReadAccess, session: SessionDep, days: Days = None
) -> Any:
    """SLA compliance of every sync with a freshness or duration target."""
    return sync_sla.sync_sla(
        session, access.workspace_id, days=params.parse_days(days, params.OBSERVABILITY_DAYS)
    )


@router.get("/audience-velocity", response_model=audience_velocity.AudienceVelocityResponse)
def get_audience_velocity(
    workspace_id: ID,
    access: ReadAccess,
    session: SessionDep,
    days: Days = None,
    audience_ids: AudienceIds = None,
) -> Any:
    """Members added and removed by each audience's evaluations, per date."""
    return audience_velocity.audience_velocity(
        session,
        access.workspace_id,
        days=params.parse_days(days, params.OBSERVABILITY_DAYS),
        audience_ids=params.parse_audience_ids(audience_ids),
    )


@router.get("/syncs/{sync_id}", response_model=sync_detail.SyncDetailResponse)
def get_sync_detail(
    workspace_id: ID, sync_id: ID, access: ReadAccess, session: SessionDep, days: Days = None
) -> Any:
    """One sync in full: its health score and inputs, durations, throughput, SLA, runs."""
    return sync_detail.sync_detail(
        session,
        access.workspace_id,
        sync_id,
        days=params.parse_days(days, params.OBSERVABILITY_DAYS),
    )
