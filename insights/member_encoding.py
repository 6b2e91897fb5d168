"""Set-based SQL that maps member keys to dense integer IDs, one staging table per batch job."""

from __future__ import annotations

import itertools
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
_names = itertools.count()
# The binary COPY header (signature, flags, extension length) and the per-row field count
# and length that precede each int8 value.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_COPY_ROW = np.dtype([("fields", ">i2"), ("length", ">i4"), ("value", ">i8")])


class KeyStage(Protocol):
    """A temporary table of keys awaiting encoding, in the caller's transaction."""

    def add(self, keys: Sequence[str]) -> None: ...
    def insert_new(self, first_id: int) -> int: ...
    def fetch_ids(self) -> NDArray[np.uint32]: ...
    def drop(self) -> None: ...


def open_stage(session: Session, workspace_id: uuid.UUID) -> KeyStage:
    """A staging table for this dialect."""
    if is_sqlite(session):
        return SqliteStage(session, workspace_id)
    return PostgresStage(session, workspace_id)


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
    """Keys go in by executemany; new keys get IDs in key order, which keeps index
    inserts sequential."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.conn = _dbapi(session)
        self.ws = workspace_id.hex
        self.table = f"temp.member_stage_{next(_names)}"
        self.conn.execute(f"CREATE TABLE {self.table} (key TEXT NOT NULL)")

    def add(self, keys: Sequence[str]) -> None:
        self.conn.executemany(f"INSERT INTO {self.table} (key) VALUES (?)", zip(keys))

    def insert_new(self, first_id: int) -> int:
        cursor = self.conn.execute(
            f"""INSERT INTO member_keys (workspace_id, member_id, key)
            SELECT ?, ? + row_number() OVER (ORDER BY key) - 1, key FROM (
              SELECT DISTINCT s.key FROM {self.table} s WHERE NOT EXISTS (
                SELECT 1 FROM member_keys m WHERE m.workspace_id = ? AND m.key = s.key))""",
            (self.ws, first_id, self.ws),
        )
        return int(cursor.rowcount)

    def fetch_ids(self) -> NDArray[np.uint32]:
        cursor = self.conn.execute(
            f"""SELECT m.member_id FROM {self.table} s
            JOIN member_keys m ON m.workspace_id = ? AND m.key = s.key""",
            (self.ws,),
        )
        chunks = []
        while rows := cursor.fetchmany(1 << 16):
            chunks.append(np.array(rows, dtype=np.uint32).reshape(-1))
        return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.uint32)

    def drop(self) -> None:
        self.conn.execute(f"DROP TABLE {self.table}")


class PostgresStage:
    """Keys go in by COPY; IDs come back by binary COPY, parsed with numpy."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.conn = _dbapi(session)
        self.ws = workspace_id
        self.table = sql.Identifier(f"member_stage_{next(_names)}")
        self.conn.execute(
            sql.SQL('CREATE TEMP TABLE {} (key text COLLATE "C" NOT NULL) ON COMMIT DROP').format(
                self.table
            )
        )

    def add(self, keys: Sequence[str]) -> None:
        data = "\n".join(keys)
        if "\\" in data or "\t" in data:
            data = data.replace("\\", "\\\\").replace("\t", "\\t")
        statement = sql.SQL("COPY {} (key) FROM STDIN").format(self.table)
        with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(data + "\n")

    def insert_new(self, first_id: int) -> int:
        self.conn.execute(sql.SQL("ANALYZE {}").format(self.table))
        query = sql.SQL(
            """INSERT INTO member_keys (workspace_id, member_id, key)
            SELECT %(ws)s, %(first)s + row_number() OVER (ORDER BY key) - 1, key FROM (
              SELECT DISTINCT s.key FROM {} s WHERE NOT EXISTS (
                SELECT 1 FROM member_keys m WHERE m.workspace_id = %(ws)s AND m.key = s.key)) d"""
        ).format(self.table)
        cursor = self.conn.execute(query, {"ws": self.ws, "first": first_id})
        return int(cursor.rowcount)

    def fetch_ids(self) -> NDArray[np.uint32]:
        query = sql.SQL(
            """COPY (SELECT m.member_id FROM {} s JOIN member_keys m
            ON m.workspace_id = {} AND m.key = s.key) TO STDOUT (FORMAT BINARY)"""
        ).format(self.table, sql.Literal(self.ws))
        buffer = bytearray()
        with self.conn.cursor() as cursor, cursor.copy(query) as copy:
            for chunk in copy:
                buffer += chunk
        return _parse_binary_ids(buffer)

    def drop(self) -> None:
        self.conn.execute(sql.SQL("DROP TABLE {}").format(self.table))


def _parse_binary_ids(buffer: bytearray) -> NDArray[np.uint32]:
    """The int8 column of a binary COPY, as a numpy array."""
    count = (len(buffer) - len(_COPY_HEADER) - 2) // _COPY_ROW.itemsize
    rows = np.frombuffer(buffer, dtype=_COPY_ROW, count=count, offset=len(_COPY_HEADER))
    return rows["value"].astype(np.uint32)
