"""Shared fixtures: every test that takes `db` runs once on SQLite and once on PostgreSQL.

PostgreSQL gets one database per xdist worker, migrated once and truncated between tests;
SQLite gets a copy of a migrated template file per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def new_pg_database(name: str) -> Iterator[str]:
    """The URL of an empty PostgreSQL database of this name (one left over from an earlier
    run is dropped first), dropped afterwards with any connection still open to it."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    # The pid keeps two concurrent test runs on one machine from dropping each other's database.
    with new_pg_database(f"insights_test_{_worker()}_{os.getpid()}") as url:
        migrate(url)
        yield url


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


@dataclass
class Api:
    """A client of one workspace through the HTTP API, with its admin key."""

    client: object
    workspace_id: uuid.UUID
    key: str

    @property
    def base(self) -> str:
        return f"/api/v1/workspaces/{self.workspace_id}"

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {key or self.key}",
            "X-Workspace-ID": str(self.workspace_id),
        }

    def request(self, method: str, path: str, key: str | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
        headers = {**self.headers(key), **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return self.client.request(method, self.base + path, headers=headers, **kwargs)  # type: ignore[attr-defined]

    def get(self, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.request("DELETE", path, **kwargs)

    def create(self, kind: str, **fields: object) -> dict:  # type: ignore[type-arg]
        """Create a resource and return its body; fails the test on any other status."""
        response = self.post(f"/{kind}", json=fields)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def new_key(self, scope: str) -> str:
        response = self.post("/api-keys", json={"name": f"{scope} key", "scope": scope})
        assert response.status_code == 201, response.text
        return response.json()["key"]  # type: ignore[no-any-return]


def make_settings(db: Database, **overrides: object):  # type: ignore[no-untyped-def]
    """Settings for an app on this test database; rate limits off unless asked for."""
    from insights.settings import Settings

    values = {"database_url": db.url, "rate_limit_per_minute": 0, "rate_limit_per_second": 0}
    return Settings(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def client(db: Database) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from insights.app import create_app

    with TestClient(create_app(make_settings(db))) as test_client:
        yield test_client


def new_workspace_api(
    db: Database, client: object, name: str = "Acme", timezone: str = "UTC"
) -> Api:
    """A new workspace with an admin key, made the way the CLI makes them."""
    from insights import auth

    with db.session() as session, session.begin():
        ws = auth.create_workspace(session, name, timezone)
        _, raw = auth.mint_key(session, ws.id, "admin", "admin")
        ws_id = ws.id
    return Api(client, ws_id, raw)


@pytest.fixture
def api(db: Database, client: object) -> Api:
    return new_workspace_api(db, client)


@pytest.fixture
def other_api(db: Database, client: object) -> Api:
    """A second workspace: its data must never reach `api`'s and vice versa."""
    return new_workspace_api(db, client, name="Other")
