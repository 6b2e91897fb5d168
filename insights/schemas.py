"""Request and response models of the resources (contract 4.1), workspaces and keys."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from insights.types import (
    Count,
    Label,
    Name,
    OutTimestamp,
    RequestModel,
    ResponseModel,
    ShortText,
    Text,
)

SourceStatus = Literal["connected", "error"]
ModelStatus = Literal["active", "inactive", "error"]
SyncStatus = Literal["active", "paused", "error"]
Scope = Literal["read", "write", "admin"]


class Pagination(ResponseModel):
    page: int
    page_size: int
    total: int


# --- workspaces and keys -------------------------------------------------------------


class WorkspaceRead(ResponseModel):
    id: uuid.UUID
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
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    key_prefix: str
    scope: Scope
    status: Literal["active", "revoked"]
    created_at: OutTimestamp
    updated_at: OutTimestamp
    last_used_at: OutTimestamp | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The raw key; shown only in this response.")


class ApiKeyList(ResponseModel):
    data: list[ApiKeyRead]
    pagination: Pagination


# --- resources -------------------------------------------------------------------------


class ResourceCreate(RequestModel):
    id: uuid.UUID | None = None
    name: Name
    status_error: Text | None = None


class ResourceUpdate(RequestModel):
    name: Name | None = None
    status_error: Text | None = None


class ResourceRead(ResponseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    status: str
    status_error: Text | None
    created_at: OutTimestamp
    updated_at: OutTimestamp


class SourceCreate(ResourceCreate):
    status: SourceStatus = "connected"
    source_type: ShortText


class SourceUpdate(ResourceUpdate):
    status: SourceStatus | None = None
    source_type: ShortText | None = None


class SourceRead(ResourceRead):
    source_type: str


class ModelCreate(ResourceCreate):
    status: ModelStatus = "active"
    source_id: uuid.UUID


class ModelUpdate(ResourceUpdate):
    status: ModelStatus | None = None
    source_id: uuid.UUID | None = None


class ModelRead(ResourceRead):
    source_id: uuid.UUID


class DestinationCreate(ResourceCreate):
    status: SourceStatus = "connected"
    destination_type: ShortText


class DestinationUpdate(ResourceUpdate):
    status: SourceStatus | None = None
    destination_type: ShortText | None = None


class DestinationRead(ResourceRead):
    destination_type: str


class AudienceCreate(ResourceCreate):
    status: ModelStatus = "active"
    parent_model_id: uuid.UUID | None = None
    description: Text | None = None
    estimated_size: Count | None = None


class AudienceUpdate(ResourceUpdate):
    status: ModelStatus | None = None
    parent_model_id: uuid.UUID | None = None
    description: Text | None = None
    estimated_size: Count | None = None


class AudienceRead(ResourceRead):
    parent_model_id: uuid.UUID | None
    description: str | None
    estimated_size: int | None
    current_size: int | None = None
    evaluated_at: OutTimestamp | None = None


class SyncCreate(ResourceCreate):
    status: SyncStatus = "active"
    model_id: uuid.UUID
    destination_id: uuid.UUID
    sync_mode: Label | None = None
    schedule: ShortText | None = None


class SyncUpdate(ResourceUpdate):
    status: SyncStatus | None = None
    model_id: uuid.UUID | None = None
    destination_id: uuid.UUID | None = None
    sync_mode: Label | None = None
    schedule: ShortText | None = None


class SyncRead(ResourceRead):
    model_id: uuid.UUID
    destination_id: uuid.UUID
    sync_mode: str | None
    schedule: str | None
    last_run_id: uuid.UUID | None = None
    last_run_status: str | None = None
    last_run_at: OutTimestamp | None = None


class AudienceSyncCreate(ResourceCreate):
    status: SyncStatus = "active"
    audience_id: uuid.UUID
    destination_id: uuid.UUID
    sync_mode: Label | None = None
    schedule: ShortText | None = None


class AudienceSyncUpdate(ResourceUpdate):
    status: SyncStatus | None = None
    audience_id: uuid.UUID | None = None
    destination_id: uuid.UUID | None = None
    sync_mode: Label | None = None
    schedule: ShortText | None = None


class AudienceSyncRead(ResourceRead):
    audience_id: uuid.UUID
    destination_id: uuid.UUID
    sync_mode: str | None
    schedule: str | None
    last_run_id: uuid.UUID | None = None
    last_run_status: str | None = None
    last_run_at: OutTimestamp | None = None


class LoaderCreate(ResourceCreate):
    status: SyncStatus = "active"
    loader_type: ShortText
    source_id: uuid.UUID | None = None
    schedule: ShortText | None = None


class LoaderUpdate(ResourceUpdate):
    status: SyncStatus | None = None
    loader_type: ShortText | None = None
    source_id: uuid.UUID | None = None
    schedule: ShortText | None = None


class LoaderRead(ResourceRead):
    loader_type: str
    source_id: uuid.UUID | None
    schedule: str | None
    last_run_at: OutTimestamp | None = None
