"""Set-based SQL that maps member keys to dense integer IDs, one staging table per batch job."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from psycopg import sql
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.models import Workspace

# 32-bit roaring bitmaps hold IDs below 2**32.
MAX_MEMBER_ID = (1 << 32) - 1
DELETE_BATCH = 100_000
_names = itertools.count()
_NEEDS_ESCAPE = re.compile(r'[\x00-\x09\x0b-\x1f"\\]')


class KeyStage(Protocol):
    """Keys awaiting encoding in the caller's transaction; `finish` returns the IDs of the
    keys that were known and the [start, stop) ranges of IDs given to new ones."""

    def add(self, keys: Sequence[str]) -> None: ...
    def finish(self) -> tuple[NDArray[np.uint32], list[tuple[int, int]]]: ...


def open_stage(session: Session, workspace_id: uuid.UUID, create: bool) -> KeyStage:
    """The staging strategy for this dialect."""
    if is_sqlite(session):
        return SqliteStage(session, workspace_id, create)
    return PostgresStage(session, workspace_id, create)


def lock_next_member_id(session: Session, workspace_id: uuid.UUID) -> int:
    """The workspace's next free ID, with its row locked until the transaction ends
    (SQLite write transactions are serialised already)."""
    query = select(Workspace.next_member_id).where(Workspace.id == workspace_id)
    return int(session.execute(query.with_for_update()).scalar_one())


def advance_next_member_id(session: Session, workspace_id: uuid.UUID, next_id: int) -> None:
    if next_id - 1 > MAX_MEMBER_ID:
        raise OverflowError("the workspace has used up its 2**32 member IDs")
    query = update(Workspace).where(Workspace.id == workspace_id)
    session.execute(query.values(next_member_id=next_id))


def _dbapi(session: Session) -> Any:
    return session.connection().connection.driver_connection


class SqliteStage:
    """Keys are encoded a million at a time as they arrive (the write lock is held anyway).
    A run's distinct keys, sorted, are looked up in one join against json_each and the new
    ones inserted with IDs in key order: each run then sweeps the key index once, in order,
    where small batches would hit it at random."""

    RUN_KEYS = 1_000_000
    CACHE_KIB = 128 * 1024  # page cache while encoding: the upper index levels stay in it

    def __init__(self, session: Session, workspace_id: uuid.UUID, create: bool) -> None:
        self.session, self.ws, self.create = session, workspace_id, create
        self.conn = _dbapi(session)
        self.pending: list[str] = []
        self.known: list[NDArray[np.uint32]] = []
        self.new: list[tuple[int, int]] = []

    def add(self, keys: Sequence[str]) -> None:
        self.pending.extend(keys)
        if len(self.pending) >= self.RUN_KEYS:
            self._encode_run()

    def finish(self) -> tuple[NDArray[np.uint32], list[tuple[int, int]]]:
        self._encode_run()
        known = np.concatenate(self.known) if self.known else np.empty(0, dtype=np.uint32)
        return known, self.new

    def _encode_run(self) -> None:
        unique, self.pending = sorted(set(self.pending)), []
        if not unique:
            return
        # The pooled connection gets its usual cache back, whatever happens.
        usual = self.conn.execute("PRAGMA cache_size").fetchone()[0]
        self.conn.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
        try:
            self._lookup_and_insert(unique)
        finally:
            self.conn.execute(f"PRAGMA cache_size = {usual}")

    def _lookup_and_insert(self, unique: list[str]) -> None:
        # CROSS JOIN keeps json_each outside: SQLite would otherwise scan the dictionary.
        rows = self.conn.execute(
            """SELECT j.key, m.member_id FROM json_each(?) j CROSS JOIN member_keys m
            ON m.workspace_id = ? AND m.key = j.value""",
            (_json_array(unique), self.ws.hex),
        )
        found = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64).reshape(-1, 2)
        self.known.append(found[:, 1].astype(np.uint32))
        if self.create and len(found) < len(unique):
            self._insert(unique, found[:, 0])

    def _insert(self, unique: list[str], found: NDArray[np.int64]) -> None:
        missing = np.ones(len(unique), dtype=bool)
        missing[found] = False
        new_keys = np.array(unique, dtype=object)[missing].tolist() if len(found) else unique
        first = lock_next_member_id(self.session, self.ws)
        self.conn.execute(
            """INSERT INTO member_keys (workspace_id, member_id, key)
            SELECT ?, ? + j.key, j.value FROM json_each(?) j""",
            (self.ws.hex, first, _json_array(new_keys)),
        )
        advance_next_member_id(self.session, self.ws, first + len(new_keys))
        self.new.append((first, first + len(new_keys)))


def _json_array(keys: list[str]) -> str:
    """A JSON array of the keys; joined directly when none needs escaping (the usual case),
    which is twice as fast as json.dumps."""
    if _NEEDS_ESCAPE.search("\n".join(keys)):  # keys hold no line breaks: "\n" is safe
        return json.dumps(keys)
    return '["' + '","'.join(keys) + '"]'


class PostgresStage:
    """Keys go in by COPY, without a lock; `finish` takes the lock and encodes them all
    set-based: one join tells known from new (duplicates only cost a repeated ID), new keys
    get IDs in key order, and the known IDs come back as one binary blob, read by numpy."""

    def __init__(self, session: Session, workspace_id: uuid.UUID, create: bool) -> None:
        self.session, self.ws, self.create = session, workspace_id, create
        self.conn = _dbapi(session)
        number = next(_names)
        self.stage = sql.Identifier(f"member_stage_{number}")
        self.resolved = sql.Identifier(f"member_resolved_{number}")
        self._run('CREATE TEMP TABLE {stage} (key text COLLATE "C" NOT NULL) ON COMMIT DROP')

    def _run(self, statement: str, params: dict[str, Any] | None = None) -> Any:
        query = sql.SQL(statement).format(stage=self.stage, resolved=self.resolved)
        return self.conn.execute(query, params)

    def add(self, keys: Sequence[str]) -> None:
        data = "\n".join(keys)
        if "\\" in data or "\t" in data:
            data = data.replace("\\", "\\\\").replace("\t", "\\t")
        statement = sql.SQL("COPY {} (key) FROM STDIN").format(self.stage)
        with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(data + "\n")

    def finish(self) -> tuple[NDArray[np.uint32], list[tuple[int, int]]]:
        first = lock_next_member_id(self.session, self.ws) if self.create else 0
        self._run("SET LOCAL work_mem = '256MB'")
        self._run("ANALYZE {stage}")
        self._run(
            """CREATE TEMP TABLE {resolved} ON COMMIT DROP AS
            SELECT s.key, m.member_id FROM {stage} s
            LEFT JOIN member_keys m ON m.workspace_id = %(ws)s AND m.key = s.key""",
            {"ws": self.ws},
        )
        new: list[tuple[int, int]] = []
        if self.create:
            created = self._run(
                """INSERT INTO member_keys (workspace_id, member_id, key)
                SELECT %(ws)s, %(first)s - 1 + row_number() OVER (ORDER BY key), key
                FROM (SELECT DISTINCT key FROM {resolved} WHERE member_id IS NULL) d""",
                {"ws": self.ws, "first": first},
            ).rowcount
            if created:
                advance_next_member_id(self.session, self.ws, first + created)
                new.append((first, first + created))
        known = self._known_ids()
        self._run("DROP TABLE {stage}, {resolved}")
        return known, new

    def _known_ids(self) -> NDArray[np.uint32]:
        query = sql.SQL("SELECT member_id FROM {} WHERE member_id IS NOT NULL").format(
            self.resolved
        )
        return _fetch_ids(self.conn, query)


def dictionary_ids(session: Session, workspace_id: uuid.UUID) -> NDArray[np.uint32]:
    """Every ID of the workspace's dictionary, in no particular order."""
    if is_sqlite(session):
        rows = _dbapi(session).execute(
            "SELECT member_id FROM member_keys WHERE workspace_id = ?", (workspace_id.hex,)
        )
        return np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64).astype(np.uint32)
    query = sql.SQL("SELECT member_id FROM member_keys WHERE workspace_id = {}").format(
        sql.Literal(workspace_id)
    )
    return _fetch_ids(_dbapi(session), query)


def delete_ids(session: Session, workspace_id: uuid.UUID, ids: NDArray[np.uint32]) -> int:
    """Deletes these IDs from the dictionary, a batch of IDs per statement."""
    conn, deleted = _dbapi(session), 0
    for start in range(0, len(ids), DELETE_BATCH):
        batch = ids[start : start + DELETE_BATCH].tolist()
        if is_sqlite(session):
            cursor = conn.execute(
                "DELETE FROM member_keys WHERE workspace_id = ?"
                " AND member_id IN (SELECT value FROM json_each(?))",
                (workspace_id.hex, json.dumps(batch)),
            )
        else:
            cursor = conn.execute(
                "DELETE FROM member_keys WHERE workspace_id = %s AND member_id = ANY(%s)",
                (workspace_id, batch),
            )
        deleted += cursor.rowcount
    return deleted


def _fetch_ids(conn: Any, query: sql.Composable) -> NDArray[np.uint32]:
    """The member_id column of `query` as one bytea of 8-byte big-endian integers, read with
    the binary protocol: a COPY would hand them to Python one row at a time."""
    aggregate = sql.SQL("SELECT string_agg(int8send(member_id), ''::bytea) FROM ({}) ids")
    with conn.cursor(binary=True) as cursor:
        cursor.execute(aggregate.format(query))
        data = cursor.fetchone()[0]
    if data is None:
        return np.empty(0, dtype=np.uint32)
    return np.frombuffer(data, dtype=">i8").astype(np.uint32)
