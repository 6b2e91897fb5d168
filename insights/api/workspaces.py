"""The workspace itself and its API keys."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Response

from insights import auth
from insights.api.deps import AccessFirstRoute, AdminAccess, PageDep, ReadAccess, SessionDep
from insights.errors import BadRequest
from insights.models import Workspace, utcnow
from insights.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyRead,
    WorkspaceRead,
    WorkspaceUpdate,
)

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}", tags=["workspace"], route_class=AccessFirstRoute
)


def check_timezone(name: str) -> str:
    """An IANA zone name, else 400."""
    if name not in available_timezones():
        raise BadRequest(f"timezone {name!r} is not a known IANA time zone")
    return name


@router.get("", response_model=WorkspaceRead)
def get_workspace(workspace_id: uuid.UUID, access: ReadAccess, session: SessionDep) -> Any:
    return session.get(Workspace, access.workspace_id)


@router.put("", response_model=WorkspaceRead)
def update_workspace(
    workspace_id: uuid.UUID, body: WorkspaceUpdate, access: AdminAccess, session: SessionDep
) -> Any:
    workspace = session.get(Workspace, access.workspace_id)
    assert workspace is not None  # the access check has just found it
    if "name" in body.model_fields_set:
        if body.name is None:
            raise BadRequest("name must not be null")
        workspace.name = body.name
    if "timezone" in body.model_fields_set:
        if body.timezone is None:
            raise BadRequest("timezone must not be null")
        workspace.timezone = check_timezone(body.timezone)
    workspace.updated_at = utcnow()
    return workspace


@router.get("/api-keys", response_model=ApiKeyList)
def list_api_keys(
    workspace_id: uuid.UUID, access: AdminAccess, session: SessionDep, page: PageDep
) -> Any:
    return auth.list_keys(session, access.workspace_id, page)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def create_api_key(
    workspace_id: uuid.UUID, body: ApiKeyCreate, access: AdminAccess, session: SessionDep
) -> Any:
    key, raw = auth.mint_key(session, access.workspace_id, body.name, body.scope)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=raw)


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(
    workspace_id: uuid.UUID, key_id: uuid.UUID, access: AdminAccess, session: SessionDep
) -> Response:
    auth.revoke_key(session, access.workspace_id, key_id)
    return Response(status_code=204)
