"""Encoding keys on PostgreSQL: COPY into a temporary stage without a lock, then set-based
SQL under the member lock."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from psycopg import sql
from sqlalchemy.orm import Session

from insights.members.dictionary import (
    advance_next_member_id,
    dbapi,
    ids_of,
    lock_next_member_id,
)

_names = itertools.count()


class PostgresStage:
    """Keys go in by COPY, without a lock; `finish` takes the lock and encodes them all
    set-based: one join returns the known keys' IDs as one binary blob (read by numpy; a
    repeated key only costs a repeated ID), and only when some staged key was not found do
    the new keys get IDs in key order, sorted once (Sort and Unique, not a hash aggregate
    followed by a sort: a second pass over every key)."""

    def __init__(self, session: Session, workspace_id: uuid.UUID, create: bool) -> None:
        self.session, self.ws, self.create = session, workspace_id, create
        self.conn = dbapi(session)
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
        return int(found), ids_of(data)

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
