"""Test factories: insert rows of a workspace straight through the ORM, with sane defaults.

Each `make_*` adds one row, flushes, and returns the ORM object, so `obj.id` is usable at
once. Any column of the model can be given as a keyword. References left out are created
(a sync without `destination_id` gets a fresh destination, ...). Timestamps must be aware;
run and evaluation times are truncated to whole seconds, as the write side stores them.
The caller owns the transaction:

    with db.session() as session, session.begin():
        sync = make_sync(session, workspace_id, name="Customers to Salesforce")
        make_sync_run(session, workspace_id, sync.id, started_at=t, duration=60)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from insights.models import (
    Audience,
    AudienceEvaluation,
    Base,
    Destination,
    Loader,
    LoaderRun,
    Model,
    Source,
    Sync,
    SyncRun,
    Workspace,
)

T = TypeVar("T", bound=Base)


def _add(session: Session, row: T) -> T:
    session.add(row)
    session.flush()
    return row


def _whole_seconds(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(microsecond=0)


def make_workspace(session: Session, *, timezone: str = "UTC", **fields: Any) -> Workspace:
    """A workspace; `timezone` is an IANA name."""
    return _add(session, Workspace(**{"name": "Workspace", "timezone": timezone, **fields}))


def make_source(session: Session, workspace_id: uuid.UUID, **fields: Any) -> Source:
    defaults = {"name": "Warehouse", "status": "connected", "source_type": "snowflake"}
    return _add(session, Source(workspace_id=workspace_id, **{**defaults, **fields}))


def make_model(session: Session, workspace_id: uuid.UUID, **fields: Any) -> Model:
    """A model; creates its source unless `source_id` is given."""
    if "source_id" not in fields:
        fields["source_id"] = make_source(session, workspace_id).id
    defaults = {"name": "Customers", "status": "active"}
    return _add(session, Model(workspace_id=workspace_id, **{**defaults, **fields}))


def make_destination(session: Session, workspace_id: uuid.UUID, **fields: Any) -> Destination:
    defaults = {"name": "Salesforce", "status": "connected", "destination_type": "salesforce"}
    return _add(session, Destination(workspace_id=workspace_id, **{**defaults, **fields}))


def make_audience(session: Session, workspace_id: uuid.UUID, **fields: Any) -> Audience:
    defaults = {"name": "High-Value Customers", "status": "active"}
    return _add(session, Audience(workspace_id=workspace_id, **{**defaults, **fields}))


def make_sync(session: Session, workspace_id: uuid.UUID, **fields: Any) -> Sync:
    """A model sync; creates its model and destination unless given."""
    if "model_id" not in fields:
        fields["model_id"] = make_model(session, workspace_id).id
    if "destination_id" not in fields:
        fields["destination_id"] = make_destination(session, workspace_id).id
    defaults = {"name": "Customers to Salesforce", "status": "active"}
    return _add(session, Sync(workspace_id=workspace_id, kind="model", **{**defaults, **fields}))


def make_audience_sync(session: Session, workspace_id: uuid.UUID, **fields: Any) -> Sync:
    """An audience-sync; creates its audience and destination unless given."""
    if "audience_id" not in fields:
        fields["audience_id"] = make_audience(session, workspace_id).id
    if "destination_id" not in fields:
        fields["destination_id"] = make_destination(session, workspace_id).id
    defaults = {"name": "Audience to Google Ads", "status": "active"}
    row = Sync(workspace_id=workspace_id, kind="audience", **{**defaults, **fields})
    return _add(session, row)


def make_loader(session: Session, workspace_id: uuid.UUID, **fields: Any) -> Loader:
    defaults = {"name": "Events loader", "status": "active", "loader_type": "s3"}
    return _add(session, Loader(workspace_id=workspace_id, **{**defaults, **fields}))


def _run_times(
    status: str, started_at: datetime, completed_at: datetime | None, duration: int | None
) -> dict[str, datetime | None]:
    """started_at/completed_at; a finished run with neither given ends when it started."""
    if completed_at is None and duration is not None:
        completed_at = started_at + timedelta(seconds=duration)
    if completed_at is None and status in ("completed", "failed", "cancelled"):
        completed_at = started_at
    return {"started_at": _whole_seconds(started_at), "completed_at": _whole_seconds(completed_at)}


def make_sync_run(
    session: Session, workspace_id: uuid.UUID, sync_id: uuid.UUID, **fields: Any
) -> SyncRun:
    """A run of a sync or audience-sync (the fields of sync_run_row), stored."""
    return _add(session, sync_run_row(workspace_id, sync_id, **fields))


def sync_run_row(
    workspace_id: uuid.UUID,
    sync_id: uuid.UUID,
    *,
    started_at: datetime,
    status: str = "completed",
    completed_at: datetime | None = None,
    duration: int | None = None,
    **fields: Any,
) -> SyncRun:
    """A run of a sync or audience-sync, not yet added to a session (a history's runs are
    stored in one flush); `duration` (seconds) sets completed_at."""
    times = _run_times(status, started_at, completed_at, duration)
    return SyncRun(workspace_id=workspace_id, sync_id=sync_id, status=status, **times, **fields)


def make_loader_run(
    session: Session,
    workspace_id: uuid.UUID,
    loader_id: uuid.UUID,
    *,
    started_at: datetime,
    status: str = "completed",
    completed_at: datetime | None = None,
    duration: int | None = None,
    **fields: Any,
) -> LoaderRun:
    """A run of a loader; `duration` (seconds) sets completed_at."""
    times = _run_times(status, started_at, completed_at, duration)
    row = LoaderRun(
        workspace_id=workspace_id, loader_id=loader_id, status=status, **times, **fields
    )
    return _add(session, row)


def make_evaluation(
    session: Session,
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    *,
    evaluated_at: datetime,
    size: int,
    **fields: Any,
) -> AudienceEvaluation:
    """A size-only evaluation (pass `created_at` to order two of the same second)."""
    row = AudienceEvaluation(
        workspace_id=workspace_id,
        audience_id=audience_id,
        evaluated_at=_whole_seconds(evaluated_at),
        size=size,
        **fields,
    )
    return _add(session, row)


def make_members(
    session: Session,
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    keys: Iterable[str],
    *,
    evaluated_at: datetime,
) -> AudienceEvaluation:
    """An evaluation with a member list, which becomes the audience's current members."""
    from insights.members import encode_keys, store_bitmap  # written alongside these tests

    distinct = sorted(set(keys))
    evaluation = make_evaluation(
        session,
        workspace_id,
        audience_id,
        evaluated_at=evaluated_at,
        size=len(distinct),
        has_members=True,
    )
    bitmap = encode_keys(session, workspace_id, distinct)
    store_bitmap(session, workspace_id, audience_id, evaluation.id, bitmap)
    return evaluation
