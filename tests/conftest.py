"""Shared fixtures: every test that takes `db` runs once on SQLite and once on PostgreSQL.

PostgreSQL gets one database per xdist worker, migrated once and truncated between tests;
SQLite gets a copy of a migrated template file per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from insights.db import make_engine, make_sessionmakers, migrate
from insights.models import Base, Workspace

PG_ADMIN_URL = os.environ.get(
    "INSIGHTS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Database:
    """One test database: its URL, engine and session factories."""

    kind: str
    url: str
    engine: Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]

    def session(self) -> Session:
        return self.write()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"insights_test_{_worker()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "insights.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    if request.param == "postgresql":
        _truncate_all(engine)
    read, write = make_sessionmakers(engine)
    yield Database(request.param, url, engine, read, write)
    engine.dispose()


@pytest.fixture
def workspace_id(db: Database) -> uuid.UUID:
    """A fresh workspace in UTC, created straight in the database."""
    with db.session() as session, session.begin():
        ws = Workspace(name="Test workspace", timezone="UTC")
        session.add(ws)
        session.flush()
        return ws.id
