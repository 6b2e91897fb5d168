"""One generic router for the seven resource kinds: create, list, get, update, delete."""

# No `from __future__ import annotations` here: FastAPI reads the body types of the
# endpoints made in a loop from their live annotations.

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from insights import resources
from insights.kinds import KINDS, Kind
from insights.types import ID
from insights.web.deps import AccessFirstRoute, PageDep, ReadAccess, SessionDep, WriteAccess

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}", route_class=AccessFirstRoute)


def _add_routes(kind: Kind) -> None:
    create_model, update_model, read_model = kind.create, kind.update, kind.read
    tag = kind.path
    item = f"/{kind.path}/{{resource_id}}"

    @router.post(
        f"/{kind.path}",
        status_code=201,
        response_model=read_model,
        tags=[tag],
        name=f"create_{kind.label}",
        responses={200: {"model": read_model}},
    )
    def create_resource(
        workspace_id: ID,
        body: create_model,  # type: ignore[valid-type]
        access: WriteAccess,  # type: ignore[valid-type]
        session: SessionDep,
        response: Response,
    ) -> Any:
        obj, created = resources.create(session, access.workspace_id, kind, body)
        if not created:
            response.status_code = 200
        return resources.read(session, access.workspace_id, kind, obj)

    @router.get(f"/{kind.path}", tags=[tag], name=f"list_{kind.path}")
    def list_resources(
        workspace_id: ID,
        access: ReadAccess,
        session: SessionDep,
        page: PageDep,
        status: Annotated[str | None, Query(description="Only objects with this status.")] = None,
    ) -> dict[str, Any]:
        return resources.list_page(session, access.workspace_id, kind, page, status)

    @router.get(item, response_model=read_model, tags=[tag], name=f"get_{kind.label}")
    def get_resource(
        workspace_id: ID, resource_id: ID, access: ReadAccess, session: SessionDep
    ) -> Any:
        obj = resources.get(session, access.workspace_id, kind, resource_id)
        return resources.read(session, access.workspace_id, kind, obj)

    @router.put(item, response_model=read_model, tags=[tag], name=f"update_{kind.label}")
    def update_resource(
        workspace_id: ID,
        resource_id: ID,
        body: update_model,  # type: ignore[valid-type]
        access: WriteAccess,
        session: SessionDep,
    ) -> Any:
        obj = resources.update(session, access.workspace_id, kind, resource_id, body)
        return resources.read(session, access.workspace_id, kind, obj)

    @router.delete(item, status_code=204, tags=[tag], name=f"delete_{kind.label}")
    def delete_resource(
        workspace_id: ID, resource_id: ID, access: WriteAccess, session: SessionDep
    ) -> Response:
        resources.remove(session, access.workspace_id, kind, resource_id)
        return Response(status_code=204)


for _kind in KINDS.values():
    _add_routes(_kind)
