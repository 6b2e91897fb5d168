"""Test databases: their URL, engine, session factories and the member caches those carry."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from insights import members
from insights.db import make_engine, make_sessionmakers
from insights.models import Base
from insights.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "INSIGHTS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Database:
    """One test database: its URL, engine and session factories, whose sessions share one
    set of member caches (as the app's do)."""

    kind: str
    url: str
    engine: Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]
    caches: members.MemberCaches

    def session(self) -> Session:
        return self.write()


def open_database(kind: str, url: str) -> Database:
    engine = make_engine(url)
    caches = members.MemberCaches.sized(Settings().bitmap_cache_bytes)
    info = members.session_info(caches)
    read, write = make_sessionmakers(engine, read_info=info, write_info=dict(info))
    return Database(kind, url, engine, read, write, caches)


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


@contextmanager
def new_pg_schema(database: Database) -> Iterator[str]:
    """The URL of a new, empty schema of this PostgreSQL database, which is the connections'
    whole search path, dropped afterwards: far cheaper than a database of its own (whose DROP
    DATABASE took seconds on a busy machine)."""
    schema = f"empty_{uuid.uuid4().hex[:12]}"
    with database.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{database.url}?options=-csearch_path%3D{schema}"
    finally:
        with database.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def empty_tables(engine: Engine) -> None:
    """Deletes every row of every table of the models. DELETE, not TRUNCATE: on the few rows
    a test leaves, TRUNCATE's new files for each table and index cost ~300 ms a test, DELETE a
    few ms. In replica mode, neither the triggers (the rollups' on sync_runs) nor the foreign
    keys' checks run (the test user is a superuser)."""
    tables = reversed(Base.metadata.sorted_tables)
    statements = "; ".join(f"DELETE FROM {table.name}" for table in tables)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(statements)
