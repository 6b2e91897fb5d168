"""Request and response models of the workspace itself and its API keys."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from insights.schemas.base import Paginated, RequestModel, ResponseModel
from insights.types import ID, Name, OutTimestamp, ShortText

Scope = Literal["read", "write", "admin"]


class WorkspaceRead(ResponseModel):
    id: ID
    name: str
    timezone: str
    created_at: OutTimestamp
    updated_at: OutTimestamp


class WorkspaceUpdate(RequestModel):
    name: Name | None = None
    timezone: ShortText | None = None


class ApiKeyCreate(RequestModel):
    name: Name
    scope: Scope = "read"


class ApiKeyRead(ResponseModel):
    id: ID
    workspace_id: ID
    name: str
    key_prefix: str
    scope: Scope
    status: Literal["active", "revoked"]
    created_at: OutTimestamp
    updated_at: OutTimestamp
    last_used_at: OutTimestamp | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The raw key; shown only in this response.")


ApiKeyList = Paginated[ApiKeyRead]
