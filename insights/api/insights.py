"""The five Insights endpoints (contract 5): thin wrappers over insights.reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from insights.reports import params
from insights.reports.activation_coverage import ActivationCoverageResponse, activation_coverage
from insights.reports.audience_overlap import AudienceOverlapResponse, audience_overlap
from insights.reports.audience_trends import AudienceTrendsResponse, audience_trends
from insights.reports.summary import SummaryResponse, summary
from insights.reports.sync_health import SyncHealthResponse, sync_health
from insights.types import ID
from insights.web.deps import ReadAccess, SessionDep

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}/insights", tags=["insights"])

# Raw strings, parsed by insights.reports.params, so the API and the dashboard refuse
# the same inputs with the same sentences.
Days = Annotated[str | None, Query(description="Window in days, an integer from 1 to 365.")]
AudienceIds = Annotated[str | None, Query(description="Comma-separated audience UUIDs.")]
MinCount = Annotated[
    str | None, Query(description="Suppress member counts above 0 and below this (>= 1).")
]
MAX_OVERLAP_AUDIENCES = 20


@router.get("/sync-health", response_model=SyncHealthResponse)
def get_sync_health(
    workspace_id: ID, access: ReadAccess, session: SessionDep, days: Days = None
) -> Any:
    return sync_health(session, access.workspace_id, days=params.parse_days(days, 7))


@router.get("/audience-trends", response_model=AudienceTrendsResponse)
def get_audience_trends(
    workspace_id: ID,
    access: ReadAccess,
    session: SessionDep,
    days: Days = None,
    audience_ids: AudienceIds = None,
) -> Any:
    return audience_trends(
        session,
        access.workspace_id,
        days=params.parse_days(days, 30),
        audience_ids=params.parse_audience_ids(audience_ids),
    )


@router.get("/activation-coverage", response_model=ActivationCoverageResponse)
def get_activation_coverage(workspace_id: ID, access: ReadAccess, session: SessionDep) -> Any:
    return activation_coverage(session, access.workspace_id)


@router.get("/audience-overlap", response_model=AudienceOverlapResponse)
def get_audience_overlap(
    workspace_id: ID,
    access: ReadAccess,
    session: SessionDep,
    audience_ids: AudienceIds = None,
    min_count: MinCount = None,
) -> Any:
    ids = params.parse_audience_ids(
        audience_ids,
        required=True,
        min_count=2,
        max_count=MAX_OVERLAP_AUDIENCES,
        allow_repeats=False,
    )
    return audience_overlap(
        session, access.workspace_id, audience_ids=ids, min_count=params.parse_min_count(min_count)
    )


@router.get("/summary", response_model=SummaryResponse)
def get_summary(workspace_id: ID, access: ReadAccess, session: SessionDep) -> Any:
    return summary(session, access.workspace_id)
