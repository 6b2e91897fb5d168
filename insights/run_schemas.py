"""Request and response models of sync runs, loader runs (4.2) and evaluations (4.3)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, computed_field, model_validator

from insights.types import Count, InTimestamp, OutTimestamp, RequestModel, ResponseModel, Text

RunStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
Trigger = Literal["schedule", "manual", "api"]
FINISHED = frozenset({"completed", "failed", "cancelled"})


class RunCreate(RequestModel):
    id: uuid.UUID | None = None
    status: RunStatus
    trigger: Trigger = "schedule"
    started_at: InTimestamp
    completed_at: InTimestamp | None = None
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
    started_at: InTimestamp | None = None
    completed_at: InTimestamp | None = None
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
    id: uuid.UUID
    workspace_id: uuid.UUID
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
    sync_id: uuid.UUID
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
    loader_id: uuid.UUID
    rows_loaded: int


MemberKeyList = list[Text]


class EvaluationCreate(RequestModel):
    """One of three forms: `members`, `added`/`removed`, or `size` alone."""

    evaluated_at: InTimestamp | None = None
    members: MemberKeyList | None = None
    added: MemberKeyList | None = None
    removed: MemberKeyList | None = None
    size: Count | None = None

    @model_validator(mode="after")
    def _one_form(self) -> EvaluationCreate:
        forms = [
            self.members is not None,
            self.added is not None or self.removed is not None,
            self.size is not None,
        ]
        if sum(forms) != 1:
            raise ValueError(
                "an evaluation carries exactly one of: members, added/removed, or size"
            )
        return self


class EvaluationRead(ResponseModel):
    id: uuid.UUID
    audience_id: uuid.UUID
    evaluated_at: OutTimestamp
    size: int
    members_added: int | None
    members_removed: int | None
    has_members: bool = Field(description="Whether this evaluation carried a member list.")
