"""The workspace's key dictionary outside encoding: its member lock, the next ID and the
size kept on the workspace row, and bulk reads and deletes of its IDs."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import numpy as np
from numpy.typing import NDArray
from psycopg import sql
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.errors import Conflict
from insights.models import Workspace

# 32-bit roaring bitmaps hold IDs below 2**32.
MAX_MEMBER_ID = (1 << 32) - 1
DELETE_BATCH = 100_000


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


def dbapi(session: Session) -> Any:
    """The session's DB-API connection (sqlite3 or psycopg), for bulk statements."""
    return session.connection().connection.driver_connection


def dictionary_ids(session: Session, workspace_id: uuid.UUID) -> NDArray[np.uint32]:
    """Every ID of the workspace's dictionary, in no particular order."""
    if is_sqlite(session):
        rows = dbapi(session).execute(
            "SELECT member_id FROM member_keys WHERE workspace_id = ?", (workspace_id.hex,)
        )
        return np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64).astype(np.uint32)
    query = sql.SQL("SELECT member_id FROM member_keys WHERE workspace_id = {}").format(
        sql.Literal(workspace_id)
    )
    return fetch_ids(dbapi(session), query)


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
    conn = dbapi(session)
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


def fetch_ids(conn: Any, query: sql.Composable) -> NDArray[np.uint32]:
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
