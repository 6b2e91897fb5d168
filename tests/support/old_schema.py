"""Rows written as plain INSERTs, for tests that fill a database at an earlier revision:
the models (and the ORM's write hooks) describe the latest schema, whose later columns and
tables an older database does not have yet."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, Uuid, column, insert, table
from sqlalchemy.orm import Session

from insights.models import Destination, Loader, Model, Source, Sync

# The workspaces table as every revision before 0007 has it.
WORKSPACES = table(
    "workspaces",
    column("id", Uuid()),
    column("name", String()),
    column("timezone", String()),
    column("next_member_id", BigInteger()),
    column("created_at", DateTime()),
    column("updated_at", DateTime()),
)
WHEN = datetime(2024, 1, 1)  # naive UTC, as stored


def workspace(session: Session) -> uuid.UUID:
    workspace_id = uuid.uuid4()
    values = {"name": "W", "timezone": "UTC", "next_member_id": 0}
    session.execute(
        insert(WORKSPACES).values(id=workspace_id, created_at=WHEN, updated_at=WHEN, **values)
    )
    return workspace_id


def _row(session: Session, model: Any, workspace_id: uuid.UUID, **fields: Any) -> uuid.UUID:
    row_id = uuid.uuid4()
    stamps = {"created_at": WHEN.replace(tzinfo=UTC), "updated_at": WHEN.replace(tzinfo=UTC)}
    values = {"workspace_id": workspace_id, "id": row_id, **stamps, **fields}
    session.execute(insert(model.__table__).values(**values))
    return row_id


def source(session: Session, workspace_id: uuid.UUID) -> uuid.UUID:
    fields = {"name": "Warehouse", "status": "connected", "source_type": "snowflake"}
    return _row(session, Source, workspace_id, **fields)


def sync(session: Session, workspace_id: uuid.UUID) -> uuid.UUID:
    """A model sync, with the source, model and destination it refers to."""
    model = _row(
        session,
        Model,
        workspace_id,
        name="M",
        status="active",
        source_id=source(session, workspace_id),
    )
    destination = _row(
        session,
        Destination,
        workspace_id,
        name="D",
        status="connected",
        destination_type="salesforce",
    )
    fields = {"name": "S", "status": "active", "kind": "model"}
    return _row(session, Sync, workspace_id, model_id=model, destination_id=destination, **fields)


def loader(session: Session, workspace_id: uuid.UUID) -> uuid.UUID:
    fields = {"name": "L", "status": "active", "loader_type": "s3"}
    return _row(session, Loader, workspace_id, **fields)
