"""Mapping member keys to dense integer IDs in bulk: the staging strategy of each database
(sqlite_stage, postgres_stage) behind one protocol."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.members.postgres_stage import PostgresStage
from insights.members.sqlite_stage import SqliteStage

__all__ = ["KeyStage", "PostgresStage", "SqliteStage", "open_stage"]


class KeyStage(Protocol):
    """Keys awaiting encoding in the caller's transaction; `prepare` does what needs every
    key but no lock (after the last `add`; PostgreSQL sorts and stages them); `finish`
    returns the IDs of the keys that were known and the [start, stop) ranges of IDs given
    to new ones; `close` waits for any work in flight, so the caller may use (or roll back)
    its session again."""

    def add(self, keys: Sequence[str]) -> None: ...
    def add_text(self, block: bytes) -> None: ...  # UTF-8 keys separated by newlines
    def prepare(self) -> None: ...
    def finish(self) -> tuple[NDArray[np.uint32], list[tuple[int, int]]]: ...
    def close(self) -> None: ...


def open_stage(session: Session, workspace_id: uuid.UUID, create: bool) -> KeyStage:
    """The staging strategy for this dialect."""
    if is_sqlite(session):
        return SqliteStage(session, workspace_id, create)
    return PostgresStage(session, workspace_id, create)
