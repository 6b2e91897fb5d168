"""The Insights endpoints (contract 5 and 8): thin wrappers over insights.reports, whose
answers are served as bytes through the process's report cache (insights.web.reports)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

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
from insights.web.deps import ReleasedReadAccess
from insights.web.openapi import ERROR_RESPONSES
from insights.web.reports import report_response

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
async def get_sync_health(
    request: Request, workspace_id: ID, access: ReleasedReadAccess, days: Days = None
) -> Response:
    """Health of every sync over the last `days` days (default 7)."""
    window = params.parse_days(days, sync_health.DEFAULT_DAYS)
    return await report_response(
        request,
        access,
        "sync_health",
        (window,),
        lambda session: sync_health.sync_health(session, access.workspace_id, days=window),
    )


@router.get("/audience-trends", response_model=audience_trends.AudienceTrendsResponse)
async def get_audience_trends(
    request: Request,
    workspace_id: ID,
    access: ReleasedReadAccess,
    days: Days = None,
    audience_ids: AudienceIds = None,
) -> Response:
    """Size of audiences per calendar date over the last `days` days (default 30)."""
    window = params.parse_days(days, audience_trends.DEFAULT_DAYS)
    ids = params.parse_audience_ids(audience_ids)
    return await report_response(
        request,
        access,
        "audience_trends",
        (window, _key(ids)),
        lambda session: audience_trends.audience_trends(
            session, access.workspace_id, days=window, audience_ids=ids
        ),
    )


@router.get("/activation-coverage", response_model=activation_coverage.ActivationCoverageResponse)
async def get_activation_coverage(
    request: Request, workspace_id: ID, access: ReleasedReadAccess
) -> Response:
    """Which audiences reach which destinations, and which reach none."""
    return await report_response(
        request,
        access,
        "activation_coverage",
        (),
        lambda session: activation_coverage.activation_coverage(session, access.workspace_id),
    )


@router.get("/audience-overlap", response_model=audience_overlap.AudienceOverlapResponse)
async def get_audience_overlap(
    request: Request,
    workspace_id: ID,
    access: ReleasedReadAccess,
    audience_ids: AudienceIds = None,
    min_count: MinCount = None,
) -> Response:
    """Overlap of 2 to 20 audiences' current members: sizes, pairs, regions."""
    ids = audience_overlap.parse_overlap_ids(audience_ids)
    smallest = params.parse_min_count(min_count)
    return await report_response(
        request,
        access,
        "audience_overlap",
        (tuple(ids), smallest),
        lambda session: audience_overlap.audience_overlap(
            session, access.workspace_id, audience_ids=ids, min_count=smallest
        ),
    )


@router.get("/summary", response_model=summary.SummaryResponse)
async def get_summary(request: Request, workspace_id: ID, access: ReleasedReadAccess) -> Response:
    """The workspace at a glance: counts by status, today's rows, members."""
    return await report_response(
        request,
        access,
        "summary",
        (),
        lambda session: summary.summary(session, access.workspace_id),
    )


@router.get("/sync-duration", response_model=sync_duration.SyncDurationResponse)
async def get_sync_duration(
    request: Request,
    workspace_id: ID,
    access: ReleasedReadAccess,
    days: Days = None,
    sync_ids: SyncIds = None,
) -> Response:
    """How long each sync's completed runs took: mean, percentiles, per date."""
    window = params.parse_days(days, params.OBSERVABILITY_DAYS)
    ids = params.parse_sync_ids(sync_ids)
    return await report_response(
        request,
        access,
        "sync_duration",
        (window, _key(ids)),
        lambda session: sync_duration.sync_duration(
            session, access.workspace_id, days=window, sync_ids=ids
        ),
    )


@router.get("/sync-throughput", response_model=sync_throughput.SyncThroughputResponse)
async def get_sync_throughput(
    request: Request,
    workspace_id: ID,
    access: ReleasedReadAccess,
    days: Days = None,
    sync_ids: SyncIds = None,
) -> Response:
    """Rows per second of each sync, the latest run's against the rest, per date."""
    window = params.parse_days(days, params.OBSERVABILITY_DAYS)
    ids = params.parse_sync_ids(sync_ids)
    return await report_response(
        request,
        access,
        "sync_throughput",
        (window, _key(ids)),
        lambda session: sync_throughput.sync_throughput(
            session, access.workspace_id, days=window, sync_ids=ids
        ),
    )


@router.get("/sync-sla", response_model=sync_sla.SyncSlaResponse)
async def get_sync_sla(
    request: Request, workspace_id: ID, access: ReleasedReadAccess, days: Days = None
) -> Response:
    """SLA compliance of every sync with a freshness or duration target."""
    window = params.parse_days(days, params.OBSERVABILITY_DAYS)
    return await report_response(
        request,
        access,
        "sync_sla",
        (window,),
        lambda session: sync_sla.sync_sla(session, access.workspace_id, days=window),
    )


@router.get("/audience-velocity", response_model=audience_velocity.AudienceVelocityResponse)
async def get_audience_velocity(
    request: Request,
    workspace_id: ID,
    access: ReleasedReadAccess,
    days: Days = None,
    audience_ids: AudienceIds = None,
) -> Response:
    """Members added and removed by each audience's evaluations, per date."""
    window = params.parse_days(days, params.OBSERVABILITY_DAYS)
    ids = params.parse_audience_ids(audience_ids)
    return await report_response(
        request,
        access,
        "audience_velocity",
        (window, _key(ids)),
        lambda session: audience_velocity.audience_velocity(
            session, access.workspace_id, days=window, audience_ids=ids
        ),
    )


@router.get("/syncs/{sync_id}", response_model=sync_detail.SyncDetailResponse)
async def get_sync_detail(
    request: Request, workspace_id: ID, sync_id: ID, access: ReleasedReadAccess, days: Days = None
) -> Response:
    """One sync in full: its health score and inputs, durations, throughput, SLA, runs."""
    window = params.parse_days(days, params.OBSERVABILITY_DAYS)
    return await report_response(
        request,
        access,
        "sync_detail",
        (sync_id, window),
        lambda session: sync_detail.sync_detail(session, access.workspace_id, sync_id, days=window),
    )


def _key(ids: list[uuid.UUID] | None) -> tuple[uuid.UUID, ...] | None:
    """A list of IDs as a part of a cache key (its order matters to the answer)."""
    return None if ids is None else tuple(ids)
