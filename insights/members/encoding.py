"""Set-based SQL that maps member keys to dense integer IDs, one staging table per batch job."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from psycopg import sql
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.errors import Conflict
from insights.members.sorting import needs_json_escape, sorted_unique_json
from insights.models import Workspace

# 32-bit roaring bitmaps hold IDs below 2**32.
MAX_MEMBER_ID = (1 << 32) - 1
DELETE_BATCH = 100_000
_names = itertools.count()


class KeyStage(Protocol):
    """Keys awaiting encoding in the caller's transaction; `finish` returns the IDs of the
    keys that were known and the [start, stop) ranges of IDs given to new ones; `close`
    waits for any work in flight, so the caller may use (or roll back) its session again."""

    def add(self, keys: Sequence[str]) -> None: ...
    def add_text(self, block: bytes) -> None: ...  # UTF-8 keys separated by newlines
    def finish(self) -> tuple[NDArray[np.uint32], list[tuple[int, int]]]: ...
    def close(self) -> None: ...


def open_stage(session: Session, workspace_id: uuid.UUID, create: bool) -> KeyStage:
    """The staging strategy for this dialect."""
    if is_sqlite(session):
        return SqliteStage(session, workspace_id, create)
    return PostgresStage(session, workspace_id, create)


def lock_next_member_id(session: Session, workspace_id: uuid.UUID) -> int:
    """The workspace's next free ID, with its row locked until the transaction ends
    (SQLite write transactions are serialised already). FOR NO KEY UPDATE: rows that refer
    to the workspace may still be inserted meanwhile."""
    query = select(Workspace.next_member_id).where(Workspace.id == workspace_id)
    return int(session.execute(query.with_for_update(key_share=True)).scalar_one())


def lock_members(session: Session, workspace_id: uuid.UUID) -> None:
    """Takes the workspace's member lock (the lock on its next ID) until the transaction
    ends. Every write of member lists and of the key dictionary takes it before it reads
    anything it will write from, and before any audience's row lock: so each reads what the
    one before it wrote, and two of them never wait for each other in opposite orders."""
    lock_next_member_id(session, workspace_id)


def advance_next_member_id(session: Session, workspace_id: uuid.UUID, first: int, new: int) -> None:
    """Hands out IDs [first, first + new) to new keys, counting them in the dictionary."""
    next_id = first + new
    if next_id - 1 > MAX_MEMBER_ID:
        raise Conflict(
            "The workspace has used up its 2**32 member IDs; keys no audience uses any more"
            " are freed by `insights members gc`, but their IDs are not handed out again."
        )
    query = update(Workspace).where(Workspace.id == workspace_id)
    count = Workspace.member_key_count + new
    session.execute(query.values(next_member_id=next_id, member_key_count=count))


def dictionary_size(session: Session, workspace_id: uuid.UUID) -> int:
    """How many keys the workspace's dictionary holds (read under the member lock)."""
    query = select(Workspace.member_key_count).where(Workspace.id == workspace_id)
    return int(session.execute(query).scalar_one())


def _dbapi(session: Session) -> Any:
    return session.connection().connection.driver_connection


class SqliteStage:
    """Keys are encoded a million at a time as they arrive (the write lock is held anyway).
    A run's distinct keys, sorted, are looked up in one join against json_each and the new
    ones inserted with IDs in key order: each run then sweeps the key index once, in order,
    where small batches would hit it at random.

    A run is sorted and encoded on a worker thread while the caller reads the next one, and
    neither holds the GIL for long: numpy sorts the keys (members.sorting) and each statement
    runs whole inside SQLite (its results come back as one group_concat, not row by row), so
    the process's other requests are served throughout a large upload."""

    RUN_KEYS = 1_000_000
    CACHE_KIB = 128 * 1024  # page cache while encoding: the upper index levels stay in it

    def __init__(self, session: Session, workspace_id: uuid.UUID, create: bool) -> None:
        self.session, self.ws, self.create = session, workspace_id, create
        self.conn = _dbapi(session)
        self.pending: list[bytes] = []
        self.pending_keys = 0
        self.known: list[NDArray[np.uint32]] = []
        self.new: list[tuple[int, int]] = []
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="key-encoding")
        self._running: Future[None] | None = None
        self._usual_cache: int | None = None

    def add(self, keys: Sequence[str]) -> None:
        if keys:
            self.add_text("\n".join(keys).encode())

    def add_text(self, block: bytes) -> None:
        if block:
            self.pending.append(block)
            self.pending_keys += block.count(b"\n") + 1
            if self.pending_keys >= self.RUN_KEYS:
                self._start_run()

    def finish(self) -> tuple[NDArray[np.uint32], list[tuple[int, int]]]:
        try:
            self._start_run()
            self._wait()
        finally:
            self.close()
        known = np.concatenate(self.known) if self.known else np.empty(0, dtype=np.uint32)
        return known, self.new

    def close(self) -> None:
        """Lets the run in flight end, whatever happened to the caller, and gives the pooled
        connection its usual page cache back."""
        if self._running is not None:
            wait([self._running])
        self._worker.shutdown()
        if self._usual_cache is not None:
            self.conn.execute(f"PRAGMA cache_size = {self._usual_cache}")
            self._usual_cache = None

    def _start_run(self) -> None:
        data, self.pending, self.pending_keys = b"\n".join(self.pending), [], 0
        self._wait()
        if not data:
            return
        if self._usual_cache is None:
            self._usual_cache = int(self.conn.execute("PRAGMA cache_size").fetchone()[0])
            self.conn.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
        self._running = self._worker.submit(self._encode_run, data)

    def _wait(self) -> None:
        """Waits for the run in flight; raises what it raised."""
        running, self._running = self._running, None
        if running is not None:
            running.result()

    def _encode_run(self, data: bytes) -> None:
        array, distinct = _sorted_json_array(self.conn, data)
        # CROSS JOIN keeps json_each outside: SQLite would otherwise scan the dictionary.
        (ids,) = self.conn.execute(
            """SELECT group_concat(m.member_id)
            FROM json_each(CAST(? AS TEXT)) j CROSS JOIN member_keys m
            ON m.workspace_id = ? AND m.key = j.value""",
            (array, self.ws.hex),
        ).fetchone()
        known = _integers(ids)
        self.known.append(known.astype(np.uint32))
        if self.create and len(known) < distinct:
            self._insert(array)

    def _insert(self, array: SqlText) -> None:
        """The run's keys that the dictionary lacks, with IDs in key order."""
        first = lock_next_member_id(self.session, self.ws)
        created = self.conn.execute(
            """INSERT INTO member_keys (workspace_id, member_id, key)
            SELECT ?, ? - 1 + row_number() OVER (ORDER BY j.key), j.value
            FROM json_each(CAST(? AS TEXT)) j
            WHERE NOT EXISTS (
                SELECT 1 FROM member_keys m WHERE m.workspace_id = ? AND m.key = j.value
            )""",
            (self.ws.hex, first, array, self.ws.hex),
        ).rowcount
        advance_next_member_id(self.session, self.ws, first, created)
        self.new.append((first, first + created))


# A JSON array for json_each: text, or its UTF-8 bytes (bound as a blob and cast to text).
SqlText = str | NDArray[np.uint8]


def _sorted_json_array(conn: Any, data: bytes) -> tuple[SqlText, int]:
    """The distinct keys of `data` (newline-separated), sorted, as a JSON array, and their
    number. numpy sorts them when none needs a JSON escape and they fit its table (the usual
    case); else SQLite does, from a JSON array made by json.dumps or joined directly."""
    escape = needs_json_escape(data)
    if not escape and (result := sorted_unique_json(data)) is not None:
        return result
    raw = json.dumps(data.decode().split("\n")) if escape else _joined_json_array(data)
    array, distinct = conn.execute(
        """SELECT json_group_array(value), count(*)
        FROM (SELECT DISTINCT value FROM json_each(?) ORDER BY value)""",
        (raw,),
    ).fetchone()
    return str(array), int(distinct)


def _joined_json_array(data: bytes) -> str:
    """A JSON array of keys that need no escape, joined directly."""
    return '["' + data.decode().replace("\n", '","') + '"]'


def _integers(joined: str | None) -> NDArray[np.int64]:
    """The integers of a group_concat (None when it had no rows), parsed in numpy."""
    if not joined:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",")


class PostgresStage:
    """Keys go in by COPY, without a lock; `finish` takes the lock and encodes them all
    set-based: one join returns the known keys' IDs as one binary blob (read by numpy; a
    repeated key only costs a repeated ID), and only when some staged key was not found do
    the new keys get IDs in key order, sorted once (Sort and Unique, not a hash aggregate
    followed by a sort: a second pass over every key)."""

    def __init__(self, session: Session, workspace_id: uuid.UUID, create: bool) -> None:
        self.session, self.ws, self.create = session, workspace_id, create
        self.conn = _dbapi(session)
        self.stage = sql.Identifier(f"member_stage_{next(_names)}")
        self.staged = 0  # keys copied into the stage, repeats included
        self._run('CREATE TEMP TABLE {stage} (key text COLLATE "C" NOT NULL) ON COMMIT DROP')

    def _run(self, statement: str, params: dict[str, Any] | None = None) -> Any:
        return self.conn.execute(sql.SQL(statement).format(stage=self.stage), params)

    def add(self, keys: Sequence[str]) -> None:
        self.add_text("\n".join(keys).encode())

    def add_text(self, block: bytes) -> None:
        """One COPY of the block as it is: keys hold no line break, so only a backslash or a
        tab needs escaping in COPY's text format."""
        if not block:
            return
        self.staged += block.count(b"\n") + 1
        if b"\\" in block or b"\t" in block:
            block = block.replace(b"\\", b"\\\\").replace(b"\t", b"\\t")
        statement = sql.SQL("COPY {} (key) FROM STDIN").format(self.stage)
        with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(block + b"\n")

    def finish(self) -> tuple[NDArray[np.uint32], list[tuple[int, int]]]:
        first = lock_next_member_id(self.session, self.ws) if self.create else 0
        self._run("SET LOCAL work_mem = '256MB'")
        self._run("ANALYZE {stage}")
        found, known = self._known_ids()
        new: list[tuple[int, int]] = []
        if self.create and found < self.staged:
            created = self._insert_new(first)
            if created:
                advance_next_member_id(self.session, self.ws, first, created)
                new.append((first, first + created))
        self._run("DROP TABLE {stage}")
        return known, new

    def close(self) -> None:
        """Nothing runs in the background here: COPY and the set-based SQL are synchronous."""

    def _known_ids(self) -> tuple[int, NDArray[np.uint32]]:
        """(staged keys found in the dictionary, repeats included; their IDs)."""
        query = sql.SQL(
            """SELECT count(*), string_agg(int8send(m.member_id), ''::bytea) FROM {} s
            JOIN member_keys m ON m.workspace_id = {} AND m.key = s.key"""
        ).format(self.stage, sql.Literal(self.ws))
        with self.conn.cursor(binary=True) as cursor:
            found, data = cursor.execute(query).fetchone()
        return int(found), _ids_of(data)

    def _insert_new(self, first: int) -> int:
        """Inserts the staged keys the dictionary lacks with IDs from `first`, in key order
        (so they go into the key index in order); returns how many."""
        self._run("SET LOCAL enable_hashagg = off")
        created = self._run(
            """INSERT INTO member_keys (workspace_id, member_id, key)
            SELECT %(ws)s, %(first)s - 1 + row_number() OVER (ORDER BY key), key
            FROM (
                SELECT DISTINCT key FROM {stage} s WHERE NOT EXISTS (
                    SELECT FROM member_keys m WHERE m.workspace_id = %(ws)s AND m.key = s.key
                )
            ) d""",
            {"ws": self.ws, "first": first},
        ).rowcount
        self._run("RESET enable_hashagg")
        return int(created)


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
    """Deletes these IDs from the dictionary and its count (the caller holds the member
    lock); returns how many went."""
    deleted = _delete_rows(session, workspace_id, ids) if len(ids) else 0
    if deleted:
        query = update(Workspace).where(Workspace.id == workspace_id)
        session.execute(query.values(member_key_count=Workspace.member_key_count - deleted))
    return deleted


def _delete_rows(session: Session, workspace_id: uuid.UUID, ids: NDArray[np.uint32]) -> int:
    """member_id has no index (models.MemberKey), so the IDs go into a temporary table
    first and one statement deletes in one pass."""
    conn = _dbapi(session)
    if is_sqlite(session):
        conn.execute("CREATE TEMP TABLE unused_ids (id INTEGER PRIMARY KEY)")
        for start in range(0, len(ids), DELETE_BATCH):
            batch = json.dumps(ids[start : start + DELETE_BATCH].tolist())
            conn.execute("INSERT INTO temp.unused_ids SELECT value FROM json_each(?)", (batch,))
        deleted = conn.execute(
            "DELETE FROM member_keys WHERE workspace_id = ?"
            " AND member_id IN (SELECT id FROM temp.unused_ids)",
            (workspace_id.hex,),
        ).rowcount
        conn.execute("DROP TABLE temp.unused_ids")
        return int(deleted)
    conn.execute("CREATE TEMP TABLE unused_ids (id bigint) ON COMMIT DROP")
    with conn.cursor() as cursor, cursor.copy("COPY unused_ids (id) FROM STDIN") as copy:
        for start in range(0, len(ids), DELETE_BATCH):
            copy.write("\n".join(map(str, ids[start : start + DELETE_BATCH].tolist())) + "\n")
    conn.execute("ANALYZE unused_ids")  # a hash join over the dictionary, not a loop
    deleted = conn.execute(
        "DELETE FROM member_keys m USING unused_ids u"
        " WHERE m.workspace_id = %s AND m.member_id = u.id",
        (workspace_id,),
    ).rowcount
    conn.execute("DROP TABLE unused_ids")
    return int(deleted)


def _fetch_ids(conn: Any, query: sql.Composable) -> NDArray[np.uint32]:
    """The member_id column of `query` as one bytea of 8-byte big-endian integers, read with
    the binary protocol: a COPY would hand them to Python one row at a time."""
    aggregate = sql.SQL("SELECT string_agg(int8send(member_id), ''::bytea) FROM ({}) ids")
    with conn.cursor(binary=True) as cursor:
        cursor.execute(aggregate.format(query))
        return _ids_of(cursor.fetchone()[0])


def _ids_of(data: bytes | None) -> NDArray[np.uint32]:
    """IDs from a string_agg of int8send (None when it had no rows)."""
    if data is None:
        return np.empty(0, dtype=np.uint32)
    return np.frombuffer(data, dtype=">i8").astype(np.uint32)
