"""Encoding keys on PostgreSQL: copied from a numpy table into a temporary stage without a
lock, looked up in one join under the member lock; new keys are sorted in numpy and go into
the dictionary by COPY."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from psycopg import sql
from sqlalchemy.orm import Session

from insights.members.binary_copy import dictionary_rows, stage_rows
from insights.members.dictionary import (
    advance_next_member_id,
    dbapi,
    fetch_ids,
    lock_next_member_id,
)
from insights.members.sorting import kept_rows, key_table, sorted_unique

_names = itertools.count()
# Staged keys whose known IDs come back in one row (12 bytes a key): the positions and IDs
# of a 10M-key upload arrive in parts of 12 MB instead of one value of 120 MB.
PART_ROWS = 1_000_000


class PostgresStage:
    """Keys are kept as they come; `prepare` (called by `finish` if not before) makes them
    one numpy table and copies it, with each key's position, into a temporary table without
    a lock (binary COPY). `finish` takes the member lock and finds the known keys' positions
    and IDs in one join; only the others are then sorted and deduplicated in numpy (off the
    GIL) and go into the dictionary with IDs in key order by one binary COPY: the database
    neither sorts nor numbers them, and an upload of known keys is never sorted at all.

    Keys too wide for numpy's table (MAX_UPLOAD_TABLE_BYTES) are left to the database, as
    they all were before: DatabaseSortedStage. Measured on a busy 2-core machine for 10M
    new keys (docs/benchmarks.md): the database's sort took 22 s, numpy's 5 s; COPY into
    the dictionary was a fifth faster than INSERT ... SELECT."""

    def __init__(self, session: Session, workspace_id: uuid.UUID, create: bool) -> None:
        self.session, self.ws, self.create = session, workspace_id, create
        self.conn = dbapi(session)
        self.stage = sql.Identifier(f"member_stage_{next(_names)}")
        self.blocks: list[bytes] = []
        self.table: NDArray[np.uint8] | None = None
        self.fallback: DatabaseSortedStage | None = None

    def add(self, keys: Sequence[str]) -> None:
        self.add_text("\n".join(keys).encode())

    def add_text(self, block: bytes) -> None:
        if block:
            self.blocks.append(block)

    def prepare(self) -> None:
        """Stages every key added: call it after the last `add`, before taking any lock
        (`finish` calls it if it was not)."""
        if self.fallback is None and self.table is None and self.blocks:
            self.table = key_table(self.blocks)
            if self.table is not None:
                self._stage(self.table)
            else:
                self.fallback = DatabaseSortedStage(self.session, self.ws, self.create)
        if self.blocks:  # none are left after the table is made
            assert self.fallback is not None, "keys added after they were staged"
            for block in self.blocks:
                self.fallback.add_text(block)
            self.blocks.clear()

    def _stage(self, table: NDArray[np.uint8]) -> None:
        self._run(
            "CREATE TEMP TABLE {stage}"
            ' (pos int4 NOT NULL, part int4 NOT NULL, key text COLLATE "C" NOT NULL)'
            " ON COMMIT DROP"
        )
        statement = sql.SQL("COPY {} (pos, part, key) FROM STDIN (FORMAT BINARY)")
        _copy(self.conn, statement.format(self.stage), stage_rows(table, PART_ROWS))
        self._run("ANALYZE {stage}")

    def _run(self, statement: str, params: dict[str, Any] | None = None) -> Any:
        return self.conn.execute(sql.SQL(statement).format(stage=self.stage), params)

    def finish(self) -> tuple[NDArray[np.uint32], list[tuple[int, int]]]:
        self.prepare()
        if self.fallback is not None:
            return self.fallback.finish()
        if self.table is None:
            return np.empty(0, dtype=np.uint32), []
        table, self.table = self.table, None
        first = lock_next_member_id(self.session, self.ws) if self.create else 0
        self._run("SET LOCAL work_mem = '256MB'")
        new, known = self._known(len(table))
        self._run("DROP TABLE {stage}")
        if not self.create or not new.any():
            return known, []
        keys = sorted_unique(kept_rows(table, new))
        advance_next_member_id(self.session, self.ws, first, len(keys))
        statement = "COPY member_keys (workspace_id, member_id, key) FROM STDIN (FORMAT BINARY)"
        _copy(self.conn, sql.SQL(statement), dictionary_rows(self.ws.bytes, first, keys))
        return known, [(first, first + len(keys))]

    def _known(self, staged: int) -> tuple[NDArray[np.bool_], NDArray[np.uint32]]:
        """(which staged keys are new, the known ones' IDs), repeats included. Positions and
        IDs come back as bytea read with the binary protocol, a part of the stage a row."""
        query = sql.SQL(
            """SELECT string_agg(int4send(s.pos), ''::bytea),
                string_agg(int8send(m.member_id), ''::bytea)
            FROM {stage} s JOIN member_keys m ON m.workspace_id = %s AND m.key = s.key
            GROUP BY s.part"""
        ).format(stage=self.stage)
        new = np.ones(staged, dtype=bool)
        ids = [np.empty(0, dtype=np.uint32)]
        with self.conn.cursor(binary=True) as cursor:
            for positions, part_ids in cursor.stream(query, (self.ws,)):
                new[np.frombuffer(positions, dtype=">i4")] = False
                ids.append(np.frombuffer(part_ids, dtype=">i8").astype(np.uint32))
        return new, np.concatenate(ids)

    def close(self) -> None:
        """Nothing runs in the background here: COPY and the SQL are synchronous."""
        self.blocks.clear()
        self.table = None


def _copy(conn: Any, statement: sql.Composable, chunks: Iterable[bytes]) -> None:
    """Sends the chunks as one COPY ... FROM STDIN."""
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in chunks:
            copy.write(chunk)


class DatabaseSortedStage:
    """Keys go in by COPY as they are, and the database sorts them: for keys too wide for
    numpy's table. One join tells known from new (duplicates only cost a repeated ID), new
    keys get IDs in key order and the known IDs come back as one binary blob.

    The join's result is kept in a second temporary table: a second join against the
    dictionary (NOT EXISTS) was planned as a hash over the workspace's whole dictionary when
    its statistics were older than a large upload (2 s for a 1,000-key upload at 2M keys)."""

    def __init__(self, session: Session, workspace_id: uuid.UUID, create: bool) -> None:
        self.session, self.ws, self.create = session, workspace_id, create
        self.conn = dbapi(session)
        number = next(_names)
        self.stage = sql.Identifier(f"member_stage_{number}")
        self.resolved = sql.Identifier(f"member_resolved_{number}")
        self._run('CREATE TEMP TABLE {stage} (key text COLLATE "C" NOT NULL) ON COMMIT DROP')

    def _run(self, statement: str, params: dict[str, Any] | None = None) -> Any:
        query = sql.SQL(statement).format(stage=self.stage, resolved=self.resolved)
        return self.conn.execute(query, params)

    def add_text(self, block: bytes) -> None:
        """One COPY of the block as it is: keys hold no line break, so only a backslash or a
        tab needs escaping in COPY's text format."""
        if b"\\" in block or b"\t" in block:
            block = block.replace(b"\\", b"\\\\").replace(b"\t", b"\\t")
        statement = sql.SQL("COPY {} (key) FROM STDIN").format(self.stage)
        _copy(self.conn, statement, [block + b"\n"])

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
            created = self._insert_new(first)
            if created:
                advance_next_member_id(self.session, self.ws, first, created)
                new.append((first, first + created))
        query = sql.SQL("SELECT member_id FROM {} WHERE member_id IS NOT NULL")
        known = fetch_ids(self.conn, query.format(self.resolved))
        self._run("DROP TABLE {stage}, {resolved}")
        return known, new

    def _insert_new(self, first: int) -> int:
        """Inserts the staged keys the dictionary lacks with IDs from `first`, in key order
        (so they go into the key index in order); returns how many. Sorted once: the planner
        chose a hash aggregate for the distinct keys, then sorted its output for the
        numbering: two passes over every key (1M new keys, EXPLAIN ANALYZE on a busy machine:
        2.9 s in the hash aggregate before the sort)."""
        self._run("SET LOCAL enable_hashagg = off")
        created = self._run(
            """INSERT INTO member_keys (workspace_id, member_id, key)
            SELECT %(ws)s, %(first)s - 1 + row_number() OVER (ORDER BY key), key
            FROM (SELECT DISTINCT key FROM {resolved} WHERE member_id IS NULL) d""",
            {"ws": self.ws, "first": first},
        ).rowcount
        self._run("RESET enable_hashagg")
        return int(created)
