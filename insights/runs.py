"""Sync runs and loader runs (contract 4.2): create, read, list and update with the
status and timestamp rules."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights import resources
from insights.db import Lock, insert_new, locked
from insights.errors import BadRequest, Conflict, NotFound
from insights.kinds import KINDS, Kind
from insights.models import LoaderRun, SyncRun, utcnow
from insights.pagination import Page
from insights.schemas.base import present_fields
from insights.schemas.runs import (
    FINISHED,
    LoaderRunCreate,
    LoaderRunRead,
    LoaderRunUpdate,
    RunCreate,
    RunRead,
    RunUpdate,
    SyncRunCreate,
    SyncRunRead,
    SyncRunUpdate,
)
from insights.types import MAX_COUNT


@dataclass(frozen=True)
class RunKind:
    """The runs of one parent kind: its table, the parent column and the models."""

    parent: Kind
    record: str  # the `type` of its lines in an NDJSON import
    table: Any  # a RunColumns table class
    parent_column: str
    create: type[RunCreate]
    update: type[RunUpdate]
    read: type[RunRead]


RUN_KINDS = {
    "syncs": RunKind(
        KINDS["syncs"], "sync_run", SyncRun, "sync_id", SyncRunCreate, SyncRunUpdate, SyncRunRead
    ),
    "audience-syncs": RunKind(
        KINDS["audience-syncs"],
        "audience_sync_run",
        SyncRun,
        "sync_id",
        SyncRunCreate,
        SyncRunUpdate,
        SyncRunRead,
    ),
    "loaders": RunKind(
        KINDS["loaders"],
        "loader_run",
        LoaderRun,
        "loader_id",
        LoaderRunCreate,
        LoaderRunUpdate,
        LoaderRunRead,
    ),
}


def check_timeline(status: str, started_at: datetime, completed_at: datetime | None) -> None:
    """A finished run has a completion time not before its start; an unfinished one none."""
    if status in FINISHED and completed_at is None:
        raise BadRequest(f"Field completed_at is required when the status is {status}.")
    if status not in FINISHED and completed_at is not None:
        raise BadRequest(f"Field completed_at must be absent while the status is {status}.")
    if completed_at is not None and completed_at < started_at:
        raise BadRequest("Field completed_at must not be before started_at.")


# A sync run's rows synced: the observability reports read their total run by run, as one
# 64-bit integer, so the three may not add up to more than one count may be.
ROWS_SYNCED = ("rows_created", "rows_updated", "rows_deleted")


def check_rows_synced(counts: Mapping[str, Any]) -> None:
    """The counts of a sync run (a loader run has none of them) add up to one count."""
    values: list[int | None] = [counts.get(name) for name in ROWS_SYNCED]
    if None not in values and sum(value or 0 for value in values) > MAX_COUNT:
        raise BadRequest(
            "Fields rows_created, rows_updated and rows_deleted must add up to at most "
            f"{MAX_COUNT}."
        )


def create_run(
    session: Session,
    workspace_id: uuid.UUID,
    kind: RunKind,
    parent_id: uuid.UUID,
    body: RunCreate,
) -> tuple[Any, bool]:
    """(the run, whether it was created now); a same-content retry returns the stored one,
    also when it ran beside the first request. The parent is locked until the transaction
    ends, so that its delete either waits for the run (and takes it along) or goes first
    (404 here)."""
    resources.get(session, workspace_id, kind.parent, parent_id, lock="refer")
    values = body.model_dump(exclude={"id"})
    check_timeline(body.status, body.started_at, body.completed_at)
    check_rows_synced(values)
    stored = None if body.id is None else session.get(kind.table, (workspace_id, body.id))
    if stored is not None:
        return _stored_again(kind, stored, parent_id, values), False
    run = kind.table(workspace_id=workspace_id, **values, **{kind.parent_column: parent_id})
    if body.id is None:
        session.add(run)
        session.flush()
        return run, True
    run.id = body.id
    if insert_new(session, run):
        return run, True
    stored = session.get(kind.table, (workspace_id, body.id), populate_existing=True)
    return _stored_again(kind, stored, parent_id, values), False


def _stored_again(kind: RunKind, stored: Any, parent_id: uuid.UUID, values: dict[str, Any]) -> Any:
    """The stored run when it is this one (same parent, same content), else 409."""
    same_parent = getattr(stored, kind.parent_column) == parent_id
    if same_parent and all(getattr(stored, k) == v for k, v in values.items()):
        return stored
    raise Conflict(f"Run {stored.id} already exists with other content.")


def get_run(
    session: Session,
    workspace_id: uuid.UUID,
    kind: RunKind,
    parent_id: uuid.UUID,
    run_id: uuid.UUID,
    lock: Lock | None = None,
) -> Any:
    """The run of this parent, else 404 (with `lock`, locked and read as committed)."""
    query = select(kind.table).where(
        kind.table.workspace_id == workspace_id,
        kind.table.id == run_id,
        getattr(kind.table, kind.parent_column) == parent_id,
    )
    run = session.scalars(locked(query, lock)).first()
    if run is None:
        raise NotFound(f"Run {run_id} does not exist.")
    return run


def update_run(
    session: Session,
    workspace_id: uuid.UUID,
    kind: RunKind,
    parent_id: uuid.UUID,
    run_id: uuid.UUID,
    body: RunUpdate,
) -> Any:
    """Changes the fields present. The run is locked before its rules are checked, so that
    two updates are judged one after the other: a finished run cannot be set back to
    running by a request that read it while it was still running."""
    resources.get(session, workspace_id, kind.parent, parent_id)
    run = get_run(session, workspace_id, kind, parent_id, run_id, lock="update")
    changes = present_fields(body)
    for name, value in changes.items():
        if value is None and name not in ("completed_at", "error"):
            raise BadRequest(f"Field {name} must not be null.")
    status = changes.get("status", run.status)
    if run.status in FINISHED and status not in FINISHED:
        raise Conflict(f"Run {run.id} is {run.status} and cannot go back to {status}.")
    started_at = changes.get("started_at", run.started_at)
    completed_at = changes.get("completed_at", run.completed_at)
    check_timeline(status, started_at, completed_at)
    if kind.parent_column == "sync_id":
        check_rows_synced({name: changes.get(name, getattr(run, name)) for name in ROWS_SYNCED})
    for name, value in changes.items():
        setattr(run, name, value)
    run.updated_at = utcnow()
    session.flush()
    return run


def list_runs(
    session: Session,
    workspace_id: uuid.UUID,
    kind: RunKind,
    parent_id: uuid.UUID,
    page: Page,
    *,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    """Newest started_at first; since/until bound started_at (since inclusive, until exclusive)."""
    table = kind.table
    query = select(table).where(
        table.workspace_id == workspace_id, getattr(table, kind.parent_column) == parent_id
    )
    if status is not None:
        query = query.where(table.status == status)
    if since is not None:
        query = query.where(table.started_at >= since)
    if until is not None:
        query = query.where(table.started_at < until)
    runs, total = page.fetch(session, query.order_by(table.started_at.desc(), table.id))
    return page.body([kind.read.model_validate(r) for r in runs], total)
