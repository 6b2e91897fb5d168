"""Workspaces' data versions (insights.data_version) read on the event loop, without a
worker thread, a session slot or a pooled connection, and without ever waiting on the
database: what lets a cached answer be served on the loop alone (insights.web.deps).

`read` answers None whenever it cannot answer at once and cheaply (no connection yet, the
database busy or gone, a loop that is not the app's); the caller then takes the ordinary
path, a worker thread with a pooled connection, which reads the version itself.

- SQLite: one connection of its own that never waits (busy timeout 0, read only). In WAL
  mode reading one primary-key row takes a few microseconds and no lock a writer holds.
- PostgreSQL: one asynchronous connection of its own, in autocommit. Requests that want a
  version while a read is in flight wait for the next one, which reads every workspace they
  asked for in one statement: one round trip for all the requests of that moment, and none
  is answered by a statement sent before it asked (so it sees every write committed by then).

Either way a version is read afresh for every request: a write committed by any process is
seen by the next read of every process, as with the pooled read."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

import psycopg
from sqlalchemy.engine import make_url

# After a failed connection or statement, the pooled path serves for this long before the
# loop tries its own connection again (a database that is down is not hammered).
RETRY_SECONDS = 1.0
CONNECT_SECONDS = 2


class VersionReads(Protocol):
    async def open(self) -> None:
        """Ready to serve the running loop (the app's, at start-up)."""

    async def read(self, workspace_id: uuid.UUID) -> int | None:
        """The workspace's committed data version (0 for none), or None: ask the pool."""

    async def close(self) -> None: ...


def version_reads(database_url: str) -> VersionReads:
    if database_url.startswith("sqlite"):
        return SqliteVersions(make_url(database_url).database or "")
    return PostgresVersions(database_url)


class SqliteVersions:
    """One never-waiting SQLite connection, used by one loop at a time."""

    _SQL = "SELECT version FROM workspace_versions WHERE workspace_id = ?"

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # a second app loop (tests) takes the pooled path
        self._retry_at = 0.0
        self._open = False

    async def open(self) -> None:
        self._open = True
        self._connect()

    async def read(self, workspace_id: uuid.UUID) -> int | None:
        if not self._open or not self._lock.acquire(blocking=False):
            return None
        try:
            connection = self._connection or self._connect()
            if connection is None:
                return None
            # The column is Uuid: 32 hex digits on SQLite (SQLAlchemy's CHAR(32) form).
            row = connection.execute(self._SQL, (workspace_id.hex,)).fetchone()
        except sqlite3.Error:
            self._drop()
            return None
        finally:
            self._lock.release()
        return int(row[0] or 0) if row else 0

    async def close(self) -> None:
        with self._lock:
            self._open = False
            self._drop()

    def _connect(self) -> sqlite3.Connection | None:
        if time.monotonic() < self._retry_at or self.path in ("", ":memory:"):
            return None
        try:
            # mode=rw: never creates the file (the service's is there, migrated).
            uri = Path(self.path).absolute().as_uri() + "?mode=rw"
            connection = sqlite3.connect(
                uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA query_only=ON")
        except sqlite3.Error:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return None
        self._connection = connection
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
            self._retry_at = time.monotonic() + RETRY_SECONDS


class PostgresVersions:
    """One asynchronous PostgreSQL connection on the app's loop, read in batches."""

    _SQL = "SELECT workspace_id, version FROM workspace_versions WHERE workspace_id = ANY(%s)"

    def __init__(self, database_url: str) -> None:
        self.conninfo = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._waiting: dict[uuid.UUID, list[asyncio.Future[int | None]]] = {}
        self._reading: asyncio.Task[None] | None = None
        self._retry_at = 0.0

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._connect()

    async def read(self, workspace_id: uuid.UUID) -> int | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop or time.monotonic() < self._retry_at:
            return None
        answer: asyncio.Future[int | None] = loop.create_future()
        self._waiting.setdefault(workspace_id, []).append(answer)
        if self._reading is None:
            self._reading = loop.create_task(self._read_batches())
        return await answer

    async def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        self._loop = None

    async def _read_batches(self) -> None:
        batch: dict[uuid.UUID, list[asyncio.Future[int | None]]] = {}
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                versions = await self._fetch(list(batch))
                _answer(batch, versions)
        finally:
            self._reading = None
            _answer(batch, None)  # cancelled mid-read: the pooled path answers them
            _answer(self._waiting, None)
            self._waiting = {}

    async def _fetch(self, workspace_ids: list[uuid.UUID]) -> dict[uuid.UUID, int] | None:
        connection = self._connection or await self._connect()
        if connection is None:
            return None
        try:
            cursor = await connection.execute(self._SQL, (workspace_ids,))
            rows = await cursor.fetchall()
        except (psycopg.Error, OSError):
            await self._drop()
            return None
        return {row[0]: int(row[1] or 0) for row in rows}

    async def _connect(self) -> psycopg.AsyncConnection[Any] | None:
        if time.monotonic() < self._retry_at:
            return None
        try:
            self._connection = await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True, connect_timeout=CONNECT_SECONDS
            )
        except (psycopg.Error, OSError):
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return None
        return self._connection

    async def _drop(self) -> None:
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()


def _answer(
    waiting: dict[uuid.UUID, list[asyncio.Future[int | None]]],
    versions: dict[uuid.UUID, int] | None,
) -> None:
    for workspace_id, futures in waiting.items():
        version = None if versions is None else versions.get(workspace_id, 0)
        for future in futures:
            if not future.done():  # its request may have been cancelled meanwhile
                future.set_result(version)
    waiting.clear()
