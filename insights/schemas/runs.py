"""Request and response models of sync runs and loader runs (contract 4.2)."""

from __future__ import annotations

from typing import Literal

from pydantic import computed_field

from insights.schemas.base import RequestModel, ResponseModel
from insights.types import ID, Count, EventTimestamp, OutTimestamp, Text

RunStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
Trigger = Literal["schedule", "manual", "api"]
FINISHED = frozenset({"completed", "failed", "cancelled"})


class RunCreate(RequestModel):
    id: ID | None = None
    status: RunStatus
    trigger: Trigger = "schedule"
    started_at: EventTimestamp
    completed_at: EventTimestamp | None = None
    error: Text | None = None


class SyncRunCreate(RunCreate):
    rows_processed: Count = 0
    rows_created: Count = 0
    rows_updated: Count = 0
    rows_deleted: Count = 0
    rows_failed: Count = 0


class LoaderRunCreate(RunCreate):
    rows_loaded: Count = 0


class RunUpdate(RequestModel):
    status: RunStatus | None = None
    trigger: Trigger | None = None
    started_at: EventTimestamp | None = None
    completed_at: EventTimestamp | None = None
    error: Text | None = None


class SyncRunUpdate(RunUpdate):
    rows_processed: Count | None = None
    rows_created: Count | None = None
    rows_updated: Count | None = None
    rows_deleted: Count | None = None
    rows_failed: Count | None = None


class LoaderRunUpdate(RunUpdate):
    rows_loaded: Count | None = None


class RunRead(ResponseModel):
    id: ID
    workspace_id: ID
    status: str
    trigger: str
    started_at: OutTimestamp
    completed_at: OutTimestamp | None
    error: str | None
    created_at: OutTimestamp
    updated_at: OutTimestamp

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_seconds(self) -> int | None:
        if self.completed_at is None:
            return None
        return int((self.completed_at - self.started_at).total_seconds())


class SyncRunRead(RunRead):
    sync_id: ID
    rows_processed: int
    rows_created: int
    rows_updated: int
    rows_deleted: int
    rows_failed: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rows_synced(self) -> int:
        return self.rows_created + self.rows_updated + self.rows_deleted


class LoaderRunRead(RunRead):
    loader_id: ID
    rows_loaded: int
