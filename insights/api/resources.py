"""One generic router for the seven resource kinds: create, list, get, update, delete."""

# No `from __future__ import annotations` here: FastAPI reads the body types of the
# endpoints made in a loop from their live annotations.

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from insights import resources
from insights.kinds import KINDS, Kind
from insights.schemas.base import Paginated
from insights.types import ID
from insights.web.deps import (
    AccessFirstRoute,
    PageDep,
    ReadAccess,
    ReleasedReadAccess,
    SessionDep,
    WriteAccess,
)
from insights.web.openapi import ERROR_RESPONSES
from insights.web.reports import report_response

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}",
    route_class=AccessFirstRoute,
    responses=ERROR_RESPONSES,
)


def _add_routes(kind: Kind) -> None:
    create_model, update_model, read_model = kind.create, kind.update, kind.read
    tag = kind.path
    item = f"/{kind.path}/{{resource_id}}"
    name = kind.record  # audience_sync: operation IDs are identifiers
    plural = kind.path.replace("-", "_")

    @router.post(
        f"/{kind.path}",
        status_code=201,
        response_model=read_model,
        tags=[tag],
        name=f"create_{name}",
        summary=f"Create a {kind.label} (or get it back: an id it already has, same content)",
        responses={200: {"model": read_model, "description": "The same object, sent again"}},
    )
    def create_resource(
        workspace_id: ID,
        body: create_model,  # type: ignore[valid-type]
        access: WriteAccess,
        session: SessionDep,
        response: Response,
    ) -> Any:
        obj, created = resources.create(session, access.workspace_id, kind, body)
        if not created:
            response.status_code = 200
        return resources.read(session, access.workspace_id, kind, obj)

    @router.get(
        f"/{kind.path}",
        response_model=Paginated[read_model],  # type: ignore[valid-type]
        tags=[tag],
        name=f"list_{plural}",
        summary=f"List the {kind.label}s, newest first",
    )
    def list_resources(
        workspace_id: ID,
        access: ReadAccess,
        session: SessionDep,
        page: PageDep,
        status: Annotated[str | None, Query(description="Only objects with this status.")] = None,
    ) -> Any:
        return resources.list_page(session, access.workspace_id, kind, page, status)

    @router.get(
        item,
        response_model=read_model,
        tags=[tag],
        name=f"get_{name}",
        summary=f"Get one {kind.label}",
    )
    async def get_resource(
        request: Request, workspace_id: ID, resource_id: ID, access: ReleasedReadAccess
    ) -> Response:
        # As bytes through the report cache, keyed by the workspace's data version (every
        # write bumps it): a read of an unchanged object is answered on the event loop.
        return await report_response(
            request,
            access,
            f"get_{name}",
            (resource_id,),
            lambda session: resources.read(
                session,
                access.workspace_id,
                kind,
                resources.get(session, access.workspace_id, kind, resource_id),
            ),
        )

    @router.put(
        item,
        response_model=read_model,
        tags=[tag],
        name=f"update_{name}",
        summary=f"Update a {kind.label}: the fields sent change, the rest stay",
    )
    def update_resource(
        workspace_id: ID,
        resource_id: ID,
        body: update_model,  # type: ignore[valid-type]
        access: WriteAccess,
        session: SessionDep,
    ) -> Any:
        obj = resources.update(session, access.workspace_id, kind, resource_id, body)
        return resources.read(session, access.workspace_id, kind, obj)

    @router.delete(
        item,
        status_code=204,
        tags=[tag],
        name=f"delete_{name}",
        summary=f"Delete a {kind.label} that nothing refers to",
    )
    def delete_resource(
        workspace_id: ID, resource_id: ID, access: WriteAccess, session: SessionDep
    ) -> Response:
        resources.remove(session, access.workspace_id, kind, resource_id)
        return Response(status_code=204)


for _kind in KINDS.values():
    _add_routes(_kind)
