"""The bulk member upload: a streamed body of keys becomes one evaluation with members."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from insights import evaluations, members, resources
from insights.concurrency import iterate_from_thread, run_blocking
from insights.kinds import KINDS
from insights.schemas.evaluations import EvaluationRead
from insights.types import ID, InTimestamp
from insights.web.deps import SessionDep, WriteAccess
from insights.web.openapi import ERROR_RESPONSES

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}/audiences/{audience_id}",
    tags=["audiences"],
    responses=ERROR_RESPONSES,
)
AUDIENCES = KINDS["audiences"]
BODY_DOCS = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}, "example": "cust_1\ncust_2\n"},
            "application/x-ndjson": {"schema": {"type": "string"}, "example": '"cust_1"\n'},
        },
    }
}


@router.put("/members", status_code=201, response_model=EvaluationRead, openapi_extra=BODY_DOCS)
async def replace_members(
    workspace_id: ID,
    audience_id: ID,
    request: Request,
    access: WriteAccess,
    session: SessionDep,
    evaluated_at: Annotated[
        InTimestamp | None, Query(description="When the list was evaluated; default now.")
    ] = None,
) -> Any:
    """Replace an audience's members with a streamed list of keys.

    One key per line (text/plain) or one JSON string per line (application/x-ndjson);
    streamed, never held in memory whole."""
    kind = members.media_type(request.headers.get("content-type"))

    def upload() -> Any:
        resources.get(session, access.workspace_id, AUDIENCES, audience_id)
        batches = members.parse_keys(iterate_from_thread(request.stream()), kind)
        return evaluations.record_member_upload(
            session, access.workspace_id, audience_id, evaluated_at, batches
        )

    return await run_blocking(upload)
