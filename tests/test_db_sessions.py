"""Read sessions: one snapshot on SQLite, statement by statement (no BEGIN) on PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from insights.db import pg_options
from insights.models import Workspace
from tests.support.databases import Database


def _workspaces(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Workspace)).scalar_one()


def test_a_read_session_sees_commits_made_during_it_only_on_postgresql(db: Database) -> None:
    with db.read() as reader:
        before = _workspaces(reader)
        with db.write() as writer, writer.begin():
            writer.add(Workspace(name="committed meanwhile"))
        after = _workspaces(reader)
    # SQLite: one snapshot from the first read. PostgreSQL: autocommit, each statement reads
    # the latest commit (as READ COMMITTED did), without BEGIN and COMMIT round trips.
    assert after == (before if db.kind == "sqlite" else before + 1)


def test_postgresql_read_sessions_open_no_transaction(db: Database) -> None:
    if db.kind == "sqlite":
        pytest.skip("SQLite's BEGIN is local: there is no round trip to save")
    with db.read() as session:
        first = session.execute(text("SELECT now()")).scalar_one()
        time.sleep(0.01)
        # now() is the start of the transaction: it moves only when each statement is its own.
        assert session.execute(text("SELECT now()")).scalar_one() > first
    with db.write() as session, session.begin():
        first = session.execute(text("SELECT now()")).scalar_one()
        time.sleep(0.01)
        assert session.execute(text("SELECT now()")).scalar_one() == first


def test_options_in_a_postgresql_url_are_kept_beside_the_services_own() -> None:
    url = "postgresql+psycopg://u@h/db?options=-csearch_path%3Dtenant"
    assert pg_options(url, "-c jit=off") == "-csearch_path=tenant -c jit=off"
    assert pg_options("postgresql+psycopg://u@h/db", "-c jit=off") == "-c jit=off"
