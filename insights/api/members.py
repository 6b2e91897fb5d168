"""The bulk member upload: a streamed body of keys becomes one evaluation with members."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from insights import resources
from insights.api.deps import SessionDep, WriteAccess
from insights.kinds import KINDS
from insights.member_upload import media_type, upload_members
from insights.models import utcnow
from insights.run_schemas import EvaluationRead
from insights.types import InTimestamp

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}/audiences/{audience_id}", tags=["audiences"]
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
async def put_members(
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    request: Request,
    access: WriteAccess,
    session: SessionDep,
    evaluated_at: Annotated[
        InTimestamp | None, Query(description="When the list was evaluated; default now.")
    ] = None,
) -> Any:
    """The audience's full membership, one key per line (text/plain) or one JSON string
    per line (application/x-ndjson); streamed, never held in memory whole."""
    kind = media_type(request.headers.get("content-type"))
    await run_in_threadpool(resources.get, session, access.workspace_id, AUDIENCES, audience_id)
    when = evaluated_at or utcnow().replace(microsecond=0)
    return await upload_members(
        session, access.workspace_id, audience_id, when, request.stream(), kind
    )
