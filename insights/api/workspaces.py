"""The workspace itself and its API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from insights import auth, workspaces
from insights.schemas.workspaces import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyRead,
    WorkspaceRead,
    WorkspaceUpdate,
)
from insights.types import ID
from insights.web.deps import AccessFirstRoute, AdminAccess, PageDep, ReadAccess, SessionDep
from insights.web.openapi import ERROR_RESPONSES

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}",
    tags=["workspace"],
    route_class=AccessFirstRoute,
    responses=ERROR_RESPONSES,
)


@router.get("", response_model=WorkspaceRead)
def get_workspace(workspace_id: ID, access: ReadAccess, session: SessionDep) -> Any:
    """Get the workspace: its name and time zone."""
    return workspaces.get_workspace(session, access.workspace_id)


@router.put("", response_model=WorkspaceRead)
def update_workspace(
    workspace_id: ID, body: WorkspaceUpdate, access: AdminAccess, session: SessionDep
) -> Any:
    """Rename the workspace or change its time zone."""
    return workspaces.update_workspace(session, access.workspace_id, body)


@router.get("/api-keys", response_model=ApiKeyList)
def list_api_keys(workspace_id: ID, access: AdminAccess, session: SessionDep, page: PageDep) -> Any:
    """List the workspace's API keys, newest first (never the keys)."""
    return auth.list_keys(session, access.workspace_id, page)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def create_api_key(
    workspace_id: ID, body: ApiKeyCreate, access: AdminAccess, session: SessionDep
) -> Any:
    """Mint an API key; the response is the only time the key is shown."""
    key, raw = auth.mint_key(session, access.workspace_id, body.name, body.scope)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=raw)


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(
    workspace_id: ID, key_id: ID, access: AdminAccess, session: SessionDep
) -> Response:
    """Revoke an API key: it answers 401 from then on."""
    auth.revoke_key(session, access.workspace_id, key_id)
    return Response(status_code=204)
