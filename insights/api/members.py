"""The bulk member upload: a streamed body of keys becomes one evaluation with members.

The body is read without a database connection: keys are validated into a spool as they
arrive, however slowly, and stored in one transaction once the body is whole. A workspace
runs at most `max_uploads_per_workspace` uploads at once (429 beyond)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from insights import alerts, evaluations, members, uploads
from insights.concurrency import run_blocking
from insights.db import transaction
from insights.models import AudienceEvaluation
from insights.schemas.evaluations import EvaluationRead
from insights.types import ID, EventTimestamp
from insights.web.deps import ReleasedWriteAccess
from insights.web.openapi import ERROR_RESPONSES
from insights.web.state import AppState, app_state

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}/audiences/{audience_id}",
    tags=["audiences"],
    responses=ERROR_RESPONSES,
)
BODY_DOCS = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}, "example": "cust_1\ncust_2\n"},
            "application/x-ndjson": {"schema": {"type": "string"}, "example": '"cust_1"\n'},
        },
    }
}
# Body bytes parsed at a time, on a worker thread (the event loop only receives).
FEED_BYTES = 1 << 20


@router.put("/members", status_code=201, response_model=EvaluationRead, openapi_extra=BODY_DOCS)
async def replace_members(
    workspace_id: ID,
    audience_id: ID,
    request: Request,
    access: ReleasedWriteAccess,
    evaluated_at: Annotated[
        EventTimestamp | None, Query(description="When the list was evaluated; default now.")
    ] = None,
) -> Any:
    """Replace an audience's members with a streamed list of keys.

    One key per line (text/plain) or one JSON string per line (application/x-ndjson);
    streamed, never held in memory whole."""
    kind = members.media_type(request.headers.get("content-type"))
    state, workspace = app_state(request), access.workspace_id
    when = evaluated_at or evaluations.default_evaluated_at()
    async with state.session_slots.held():
        await run_blocking(_check, state, workspace, audience_id, when)
    slot = await run_blocking(state.upload_slots.take, workspace)
    try:
        with members.KeySpool(kind) as spool:
            await _receive(request.stream(), spool)
            async with state.session_slots.held():
                return await run_blocking(_store, state, workspace, audience_id, when, spool)
    finally:
        await run_blocking(slot.release)


def _check(state: AppState, workspace: uuid.UUID, audience: uuid.UUID, when: datetime) -> None:
    with transaction(state.read) as session:
        uploads.check_upload(session, workspace, audience, when)


async def _receive(body: AsyncIterator[bytes], spool: members.KeySpool) -> None:
    """The body into the spool (a bad line is a 400 naming it). uvicorn drops the rest of a
    body the app did not read, so a client still sending reads the 400 all the same."""
    pending: list[bytes] = []
    size = 0
    async for chunk in body:
        pending.append(chunk)
        size += len(chunk)
        if size >= FEED_BYTES:
            await run_blocking(spool.feed, b"".join(pending))
            pending, size = [], 0
    await run_blocking(spool.feed, b"".join(pending))
    await run_blocking(spool.finish)


def _store(
    state: AppState,
    workspace: uuid.UUID,
    audience: uuid.UUID,
    when: datetime,
    spool: members.KeySpool,
) -> AudienceEvaluation:
    with transaction(state.write) as session:
        evaluation = uploads.record_member_upload(
            session, workspace, audience, when, spool.blocks()
        )
    alerts.queue_after_write(state.alert_queue, session)  # as every other write does
    return evaluation
