"""The workspace data version: a number bumped in the transaction of every write that can
change what a report of the workspace answers, so that a process can tell a cached report is
still current by reading one row, whichever process made the write.

Every session is watched: the ORM objects it flushes note their workspace, and bulk
statements that bypass the ORM (a resource delete, a stored bitmap, the import, the demo)
call `note_write`. Alert rules, alerts and their notifications change no report and are not
counted; neither is an API key's `last_used_at`, which is written with a bulk statement.

The bump is the last statement before the outermost commit: the version row's lock is then
always the last one a transaction takes and is held only while it commits, so it never
joins a cycle with the row locks a write takes first (insights.db.Lock), and two writers of
one workspace only queue for an instant. A reader reads the version before it computes
anything: what it computes is at least as new as that version."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from insights.models import Alert, AlertNotification, AlertRule, Workspace, WorkspaceVersion

_TOUCHED = "data_version.touched"
# What no report reads: their writes leave the reports' answers as they were.
_NOT_REPORTED = (AlertRule, Alert, AlertNotification)


def note_write(session: Session, workspace_id: uuid.UUID) -> None:
    """The session's transaction changes the workspace's data: bump its version at commit."""
    touched: set[uuid.UUID] = session.info.setdefault(_TOUCHED, set())
    touched.add(workspace_id)


def read_version(session: Session | Connection, workspace_id: uuid.UUID) -> int:
    """The workspace's data version as committed (0 for one never written since the table
    came): read it before computing what is to be cached under it."""
    version = session.execute(_VERSION, {"workspace_id": workspace_id}).scalar()
    return int(version or 0)


_VERSIONS = WorkspaceVersion.__table__
# Columns of the table, not of the ORM entity: run on a bare connection too, and cheaper.
_VERSION = select(_VERSIONS.c.version).where(_VERSIONS.c.workspace_id == bindparam("workspace_id"))


def _workspace_of(obj: Any) -> uuid.UUID | None:
    if isinstance(obj, _NOT_REPORTED):
        return None
    if isinstance(obj, Workspace):
        return obj.id
    workspace_id: uuid.UUID | None = getattr(obj, "workspace_id", None)
    return workspace_id


@event.listens_for(Session, "before_flush")
def _note_flushed(session: Session, _context: Any, _instances: Any) -> None:
    changed = [
        *session.new,
        *session.deleted,
        *(obj for obj in session.dirty if session.is_modified(obj, include_collections=False)),
    ]
    for obj in changed:
        workspace_id = _workspace_of(obj)
        if workspace_id is not None:
            note_write(session, workspace_id)


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outermost commit bumps
    if session.new or session.dirty or session.deleted:
        session.flush()  # what is still pending may touch a workspace too
    touched: set[uuid.UUID] = session.info.pop(_TOUCHED, set())
    # One order for every transaction: two that touch the same workspaces never wait for
    # each other's version rows in opposite orders.
    for workspace_id in sorted(touched):
        session.execute(_bump(session), {"workspace_id": workspace_id})


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_TOUCHED, None)


def _bump(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = WorkspaceVersion.__table__
    statement = insert(WorkspaceVersion).values(workspace_id=bindparam("workspace_id"), version=1)
    return statement.on_conflict_do_update(
        index_elements=[table.c.workspace_id], set_={"version": table.c.version + 1}
    )
