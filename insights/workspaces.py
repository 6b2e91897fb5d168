"""Workspaces: creating one, renaming it, and its IANA time zone."""

from __future__ import annotations

import uuid
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from insights.errors import BadRequest, NotFound
from insights.models import Workspace, utcnow
from insights.schemas.workspaces import WorkspaceUpdate


def check_timezone(name: str) -> str:
    """An IANA zone name, else 400."""
    if name not in available_timezones():
        raise BadRequest(f"Time zone {name!r} is not a known IANA time zone.")
    return name


def create_workspace(session: Session, name: str, timezone: str = "UTC") -> Workspace:
    workspace = Workspace(name=name, timezone=check_timezone(timezone))
    session.add(workspace)
    session.flush()
    return workspace


def get_workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"Workspace {workspace_id} does not exist.")
    return workspace


def update_workspace(session: Session, workspace_id: uuid.UUID, body: WorkspaceUpdate) -> Workspace:
    """Changes the name and time zone present in `body`; neither may be null."""
    workspace = get_workspace(session, workspace_id)
    if "name" in body.model_fields_set:
        if body.name is None:
            raise BadRequest("Field name must not be null.")
        workspace.name = body.name
    if "timezone" in body.model_fields_set:
        if body.timezone is None:
            raise BadRequest("Field timezone must not be null.")
        workspace.timezone = check_timezone(body.timezone)
    workspace.updated_at = utcnow()
    return workspace
