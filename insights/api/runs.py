"""Runs of syncs, audience-syncs and loaders: one set of routes for each parent kind."""

# No `from __future__ import annotations`: FastAPI reads the loop-made body types live.

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from insights import resources, runs
from insights.runs import RUN_KINDS, RunKind
from insights.schemas.base import Paginated
from insights.schemas.runs import RunStatus
from insights.types import ID, InTimestamp
from insights.web.deps import AccessFirstRoute, PageDep, ReadAccess, SessionDep, WriteAccess
from insights.web.openapi import ERROR_RESPONSES

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}",
    route_class=AccessFirstRoute,
    responses=ERROR_RESPONSES,
)

StatusFilter = Annotated[RunStatus | None, Query(description="Only runs with this status.")]
Since = Annotated[InTimestamp | None, Query(description="Runs started at or after this time.")]
Until = Annotated[InTimestamp | None, Query(description="Runs started before this time.")]


def _add_routes(kind: RunKind) -> None:
    create_model, update_model, read_model = kind.create, kind.update, kind.read
    collection = f"/{kind.parent.path}/{{parent_id}}/runs"
    item = collection + "/{run_id}"
    tag = kind.parent.path
    label = kind.parent.label.replace("-", "_")

    @router.post(
        collection,
        status_code=201,
        response_model=read_model,
        tags=[tag],
        name=f"create_{label}_run",
        summary=f"Report a run of a {kind.parent.label}",
        responses={200: {"model": read_model, "description": "The same run, sent again"}},
    )
    def create_run(
        workspace_id: ID,
        parent_id: ID,
        body: create_model,  # type: ignore[valid-type]
        access: WriteAccess,
        session: SessionDep,
        response: Response,
    ) -> Any:
        run, created = runs.create_run(session, access.workspace_id, kind, parent_id, body)
        if not created:
            response.status_code = 200
        return run

    @router.get(
        collection,
        response_model=Paginated[read_model],  # type: ignore[valid-type]
        tags=[tag],
        name=f"list_{label}_runs",
        summary=f"List the runs of a {kind.parent.label}, newest first",
    )
    def list_runs(
        workspace_id: ID,
        parent_id: ID,
        access: ReadAccess,
        session: SessionDep,
        page: PageDep,
        status: StatusFilter = None,
        since: Since = None,
        until: Until = None,
    ) -> Any:
        resources.get(session, access.workspace_id, kind.parent, parent_id)
        return runs.list_runs(
            session,
            access.workspace_id,
            kind,
            parent_id,
            page,
            status=status,
            since=since,
            until=until,
        )

    @router.get(
        item,
        response_model=read_model,
        tags=[tag],
        name=f"get_{label}_run",
        summary=f"Get one run of a {kind.parent.label}",
    )
    def get_run(
        workspace_id: ID,
        parent_id: ID,
        run_id: ID,
        access: ReadAccess,
        session: SessionDep,
    ) -> Any:
        resources.get(session, access.workspace_id, kind.parent, parent_id)
        return runs.get_run(session, access.workspace_id, kind, parent_id, run_id)

    @router.put(
        item,
        response_model=read_model,
        tags=[tag],
        name=f"update_{label}_run",
        summary=f"Update a run of a {kind.parent.label} (its status, times, counts)",
    )
    def update_run(
        workspace_id: ID,
        parent_id: ID,
        run_id: ID,
        body: update_model,  # type: ignore[valid-type]
        access: WriteAccess,
        session: SessionDep,
    ) -> Any:
        return runs.update_run(session, access.workspace_id, kind, parent_id, run_id, body)


for _kind in RUN_KINDS.values():
    _add_routes(_kind)
