"""The run rules kept by the database itself (migration 0005): it refuses a run whose status
and times disagree, and the migration repairs rows that a race left that way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from insights.db import make_engine, migrate
from insights.models import LoaderRun, SyncRun
from tests.support import old_schema
from tests.support.databases import Database
from tests.support.factories import (
    make_loader,
    make_loader_run,
    make_sync,
    make_sync_run,
)

T0 = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "completed_at"),
    [("running", T0), ("queued", T0), ("completed", None), ("failed", T0 - timedelta(1))],
)
def test_the_database_refuses_a_run_whose_status_and_times_disagree(
    db: Database, workspace_id: uuid.UUID, status: str, completed_at: datetime | None
) -> None:
    with db.session() as session, session.begin():
        sync_id, loader_id = (
            make_sync(session, workspace_id).id,
            make_loader(session, workspace_id).id,
        )
    for make, parent in ((make_sync_run, sync_id), (make_loader_run, loader_id)):
        with db.session() as session, session.begin(), pytest.raises(IntegrityError):
            run = make(session, workspace_id, parent, started_at=T0, status="running")
            run.status, run.completed_at = status, completed_at
            session.flush()


@pytest.fixture
def database_at_0004(empty_database: str) -> str:
    """A database of this test's own, migrated to 0004 (the shared one stays at head)."""
    migrate(empty_database, "0004")
    return empty_database


def test_migration_0005_repairs_runs_a_race_left_broken(database_at_0004: str) -> None:
    """A run with an unfinished status and a completion time had finished (failed when it
    has an error); a finished one without a time gets its last update's; a completion
    before the start moves to the start."""
    later = T0 + timedelta(minutes=5)
    broken = [("running", later, None), ("queued", later, "HTTP 503"), ("completed", None, None)]
    broken.append(("failed", T0 - timedelta(minutes=1), "late"))
    engine = make_engine(database_at_0004)
    try:
        with Session(engine) as session, session.begin():
            workspace_id = old_schema.workspace(session)
            parents = (
                (SyncRun, "sync_id", old_schema.sync(session, workspace_id)),
                (LoaderRun, "loader_id", old_schema.loader(session, workspace_id)),
            )
            for model, column, parent in parents:
                for status, completed_at, error in broken:
                    times = {"started_at": T0, "completed_at": completed_at, "updated_at": later}
                    run = {"status": status, "error": error, "trigger": "schedule", **times}
                    session.execute(
                        insert(model).values(
                            workspace_id=workspace_id,
                            id=uuid.uuid4(),
                            created_at=T0,
                            **run,
                            **{column: parent},
                        )
                    )
        migrate(database_at_0004)
        with Session(engine) as session:
            for table in (SyncRun, LoaderRun):
                rows = session.execute(select(table.status, table.completed_at)).tuples().all()
                assert sorted(rows) == sorted(
                    [("completed", later), ("failed", later), ("completed", later), ("failed", T0)]
                )
    finally:
        engine.dispose()
