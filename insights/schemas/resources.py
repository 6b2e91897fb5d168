"""Request and response models of the seven resource kinds (contract 4.1)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from insights.schemas.base import RequestModel, ResponseModel
from insights.types import ID, Count, Label, Name, OutTimestamp, ShortText, SlaTarget, Text

SourceStatus = Literal["connected", "error"]
ModelStatus = Literal["active", "inactive", "error"]
SyncStatus = Literal["active", "paused", "error"]


class ResourceCreate(RequestModel):
    id: ID | None = None
    name: Name
    status_error: Text | None = None


class ResourceUpdate(RequestModel):
    name: Name | None = None
    status_error: Text | None = None


class ResourceRead(ResponseModel):
    id: ID
    workspace_id: ID
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
    source_id: ID


class ModelUpdate(ResourceUpdate):
    status: ModelStatus | None = None
    source_id: ID | None = None


class ModelRead(ResourceRead):
    source_id: ID


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
    parent_model_id: ID | None = None
    description: Text | None = None
    estimated_size: Count | None = None


class AudienceUpdate(ResourceUpdate):
    status: ModelStatus | None = None
    parent_model_id: ID | None = None
    description: Text | None = None
    estimated_size: Count | None = None


class AudienceRead(ResourceRead):
    parent_model_id: ID | None
    description: str | None
    estimated_size: int | None
    current_size: int | None = None
    evaluated_at: OutTimestamp | None = None


class SlaTargets(RequestModel):
    """The SLA targets a sync may carry (contract 8.4)."""

    sla_freshness_minutes: SlaTarget | None = Field(
        None, description="A completed run at least this often (minutes)."
    )
    sla_duration_seconds: SlaTarget | None = Field(
        None, description="No completed run longer than this (seconds)."
    )


class SyncCreate(ResourceCreate, SlaTargets):
    status: SyncStatus = "active"
    model_id: ID
    destination_id: ID
    sync_mode: Label | None = None
    schedule: ShortText | None = None


class SyncUpdate(ResourceUpdate, SlaTargets):
    status: SyncStatus | None = None
    model_id: ID | None = None
    destination_id: ID | None = None
    sync_mode: Label | None = None
    schedule: ShortText | None = None


class SyncRead(ResourceRead):
    model_id: ID
    destination_id: ID
    sync_mode: str | None
    schedule: str | None
    sla_freshness_minutes: int | None = None
    sla_duration_seconds: int | None = None
    last_run_id: ID | None = None
    last_run_status: str | None = None
    last_run_at: OutTimestamp | None = None


class AudienceSyncCreate(ResourceCreate, SlaTargets):
    status: SyncStatus = "active"
    audience_id: ID
    destination_id: ID
    sync_mode: Label | None = None
    schedule: ShortText | None = None


class AudienceSyncUpdate(ResourceUpdate, SlaTargets):
    status: SyncStatus | None = None
    audience_id: ID | None = None
    destination_id: ID | None = None
    sync_mode: Label | None = None
    schedule: ShortText | None = None


class AudienceSyncRead(ResourceRead):
    audience_id: ID
    destination_id: ID
    sync_mode: str | None
    schedule: str | None
    sla_freshness_minutes: int | None = None
    sla_duration_seconds: int | None = None
    last_run_id: ID | None = None
    last_run_status: str | None = None
    last_run_at: OutTimestamp | None = None


class LoaderCreate(ResourceCreate):
    status: SyncStatus = "active"
    loader_type: ShortText
    source_id: ID | None = None
    schedule: ShortText | None = None


class LoaderUpdate(ResourceUpdate):
    status: SyncStatus | None = None
    loader_type: ShortText | None = None
    source_id: ID | None = None
    schedule: ShortText | None = None


class LoaderRead(ResourceRead):
    loader_type: str
    source_id: ID | None
    schedule: str | None
    last_run_at: OutTimestamp | None = None
