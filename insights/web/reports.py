"""Insights answers as response bytes, through the process's report cache: the route
parses its parameters, then the answer of (workspace, report, parameters, data version)
is served from the cache or computed on a worker thread in a read transaction of its own."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from insights import cycle_collector
from insights.db import transaction
from insights.web.deps import Access
from insights.web.report_cache import ReportKey
from insights.web.state import app_state

JSON = "application/json"


async def report_response(
    request: Request,
    access: Access,
    report: str,
    parameters: tuple[Hashable, ...],
    compute: Callable[[Session], BaseModel],
) -> Response:
    """The answer of `compute` for the checked workspace; `report` and `parameters` (parsed,
    so that equal queries written differently share an entry) name it in the cache."""
    state = app_state(request)
    key = ReportKey(access.workspace_id, report, parameters, access.version)
    body = await state.reports.answer(
        key, lambda: _computed(state.read, compute), state.session_slots.held
    )
    return Response(body, media_type=JSON)


def _computed(factory: sessionmaker[Session], compute: Callable[[Session], BaseModel]) -> bytes:
    # The collector paused until the answer is bytes and its objects are freed: resumed
    # while they all lived, it walked every one of them at once (and, counted as survivors,
    # they brought the next full collection nearer): 9% of sync-health's CPU at 10,000 syncs,
    # 2% at 1,000. Freed first, they leave it nothing to walk.
    with cycle_collector.paused():
        # Read after the check read the version: what this sees is at least that new.
        with transaction(factory) as session:
            answer = compute(session)
        body = json_body(answer)
        del answer
    return body


def json_body(answer: BaseModel) -> bytes:
    """The bytes of answer.model_dump_json(by_alias=True), as FastAPI would have written them
    from the route's response model: pydantic's bytes before that method decodes them to
    text, which this would encode again (4 ms for sync-duration's 3 MB)."""
    return answer.__pydantic_serializer__.to_json(answer, by_alias=True)
