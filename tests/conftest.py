"""Shared fixtures: every test that takes `db` runs once on SQLite and once on PostgreSQL.

PostgreSQL gets one database per xdist worker, migrated once and emptied between tests;
SQLite gets a copy of a migrated template file per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from insights.app import create_app
from insights.db import migrate
from insights.models import Workspace
from tests.support.api import Api, make_settings, new_workspace_api
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, Service, running_service
from tests.support.databases import (
    Database,
    empty_tables,
    new_pg_database,
    new_pg_schema,
    open_database,
)

if TYPE_CHECKING:  # Playwright is imported only when a browser test runs
    from playwright.sync_api import Browser


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    # The pid keeps two concurrent test runs on one machine from dropping each other's database.
    with new_pg_database(f"insights_test_{_worker()}_{os.getpid()}") as url:
        migrate(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "insights.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
    database = open_database(request.param, url)
    if request.param == "postgresql":
        empty_tables(database.engine)
    yield database
    database.engine.dispose()


@pytest.fixture
def empty_database(db: Database, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, with no tables yet (the shared one stays at head), for
    tests of migrations: a new SQLite file, or a new schema of the PostgreSQL test database."""
    if db.kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with new_pg_schema(db) as url:
        yield url


@pytest.fixture
def workspace_id(db: Database) -> uuid.UUID:
    """A fresh workspace in UTC, created straight in the database."""
    with db.session() as session, session.begin():
        ws = Workspace(name="Test workspace", timezone="UTC")
        session.add(ws)
        session.flush()
        return ws.id


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db))) as test_client:
        yield test_client


@pytest.fixture
def api(db: Database, client: TestClient) -> Api:
    return new_workspace_api(db, client)


@pytest.fixture
def other_api(db: Database, client: TestClient) -> Api:
    """A second workspace: its data must never reach `api`'s and vice versa."""
    return new_workspace_api(db, client, name="Other")


# --- the browser tests' service and browser: one of each for every browser test module ----


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The seeded service under uvicorn on a SQLite file; the pages only read it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'insights.db'}"
    with running_service(url) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
