"""Audience evaluations: report one (sizes or members), list them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from insights import evaluations, resources
from insights.kinds import KINDS
from insights.schemas.base import Paginated
from insights.schemas.evaluations import EvaluationCreate, EvaluationRead
from insights.types import ID, InTimestamp
from insights.web.deps import AccessFirstRoute, PageDep, ReadAccess, SessionDep, WriteAccess
from insights.web.openapi import ERROR_RESPONSES

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}/audiences/{audience_id}",
    tags=["audiences"],
    route_class=AccessFirstRoute,
    responses=ERROR_RESPONSES,
)
AUDIENCES = KINDS["audiences"]


@router.post(
    "/evaluations",
    status_code=201,
    response_model=EvaluationRead,
    summary="Report an evaluation of an audience: its members, their change, or its size",
)
def create_evaluation(
    workspace_id: ID,
    audience_id: ID,
    body: EvaluationCreate,
    access: WriteAccess,
    session: SessionDep,
) -> Any:
    return evaluations.record_evaluation(session, access.workspace_id, audience_id, body)


@router.get(
    "/evaluations",
    response_model=Paginated[EvaluationRead],
    summary="List an audience's evaluations, newest first",
)
def list_evaluations(
    workspace_id: ID,
    audience_id: ID,
    access: ReadAccess,
    session: SessionDep,
    page: PageDep,
    since: Annotated[InTimestamp | None, Query(description="Evaluated at or after.")] = None,
    until: Annotated[InTimestamp | None, Query(description="Evaluated before.")] = None,
) -> Any:
    resources.get(session, access.workspace_id, AUDIENCES, audience_id)
    return evaluations.list_evaluations(
        session, access.workspace_id, audience_id, page, since, until
    )
