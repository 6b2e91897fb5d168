"""Encoding keys on SQLite: runs of a million keys, sorted in numpy and encoded in SQLite on a
worker thread while the caller reads the next run."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from insights.members.dictionary import advance_next_member_id, dbapi, lock_next_member_id
from insights.members.sorting import needs_json_escape, sorted_unique_json


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
        self.conn = dbapi(session)
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

    def prepare(self) -> None:
        """Nothing to do before the lock: runs are encoded as they come, under SQLite's write
        lock anyway."""

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
