"""Rows of one table waiting for one set-based insert, and the check that makes a re-import
of the same lines safe: a row whose key is stored already is skipped, or refused (409)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from insights import data_version
from insights.db import insert_rows, is_sqlite
from insights.errors import BadRequest
from insights.types import format_timestamp
from insights.validation import clause, sentence

RUN_FIELDS = ("status", "trigger", "started_at", "completed_at", "error")
SYNC_RUN_FIELDS = (
    "sync_id",
    *RUN_FIELDS,
    "rows_processed",
    "rows_created",
    "rows_updated",
    "rows_deleted",
    "rows_failed",
)
LOADER_RUN_FIELDS = ("loader_id", *RUN_FIELDS, "rows_loaded")
SIZE_FIELDS = ("audience_id", "evaluated_at", "size")


class ImportFailed(BadRequest):
    """A line the API would refuse: nothing of the file is stored (unless not atomic).
    `where` is the line ("line 12"), `reason` what the API would have said of it."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(sentence(f"{where}: {clause(reason)}"))

    def __str__(self) -> str:
        return self.message


@dataclass
class ImportReport:
    lines: int = 0
    created: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "created": dict(self.created),
            "unchanged": dict(self.unchanged),
            "seconds": round(self.seconds, 1),
        }


@dataclass
class Batch:
    """Rows of one table waiting for one executemany. A row whose `key` is stored already
    (or came earlier in the file) is skipped when its `compared` columns match, else 409."""

    table: Any
    key: tuple[str, ...]
    compared: tuple[str, ...]
    where: tuple[Any, ...] = ()
    items: list[tuple[int, str, bool, dict[str, Any]]] = field(default_factory=list)

    def flush(self, session: Session, workspace_id: uuid.UUID, report: ImportReport) -> None:
        if not self.items:
            return
        stored, fresh, first = self._stored(session, workspace_id), [], self.items[0][0]
        for line, type_name, keyed, row in self.items:
            key = tuple(row[c] for c in self.key)
            content = tuple(row[c] for c in self.compared)
            before = stored.get(key) if keyed else None
            if before is not None and before != content:
                raise ImportFailed(
                    f"line {line}", f"{_label(key)} already exists with other content"
                )
            if before is not None:
                report.unchanged[type_name] += 1
                continue
            if keyed:
                stored[key] = content  # a later line with this key repeats this one
            fresh.append(row)
            report.created[type_name] += 1
        self.items.clear()
        if not fresh:
            return
        try:
            insert_rows(session, self.table.__table__, fresh)
            data_version.note_write(session, workspace_id)
        except IntegrityError as exc:
            lines = f"lines {first} to {line}"
            raise ImportFailed(lines, f"the database refused them: {exc.orig}") from exc

    def _stored(self, session: Session, workspace_id: uuid.UUID) -> dict[tuple[Any, ...], Any]:
        """key -> compared columns of the stored rows that share a key with this batch."""
        keyed = [row for _, _, is_keyed, row in self.items if is_keyed]
        if not keyed:
            return {}
        columns = [getattr(self.table, c) for c in (*self.key, *self.compared)]
        probe = select(*columns).where(self.table.workspace_id == workspace_id, *self.where)
        if is_sqlite(session):
            for name in self.key:  # a superset when the key has columns; the dict decides
                probe = probe.where(getattr(self.table, name).in_({row[name] for row in keyed}))
            query = probe
        else:
            query = _probe_each(self.table, probe, self.key, keyed)
        width = len(self.key)
        return {tuple(r[:width]): tuple(r[width:]) for r in session.execute(query)}


def _probe_each(
    table: Any, probe: Select[Any], key: tuple[str, ...], rows: list[dict[str, Any]]
) -> Select[Any]:
    """One index probe per key, whatever the planner's statistics say. The table grows
    inside the import's transaction, unseen by ANALYZE; with `IN (...)` PostgreSQL soon
    takes the workspace's rows for a handful and reads them all for every batch (seconds
    to minutes a batch a few hundred thousand rows in)."""
    arrays = [
        bindparam(
            f"keys_{name}", [row[name] for row in rows], type_=ARRAY(getattr(table, name).type)
        )
        for name in key
    ]
    keys = func.unnest(*arrays).table_valued(*key).render_derived(name="k")
    same_key = [getattr(table, name) == keys.c[name] for name in key]
    each = probe.where(*same_key).lateral("stored")
    return select(each).select_from(keys).join(each, true())


def _label(key: tuple[Any, ...]) -> str:
    if len(key) == 1:
        return f"run {key[0]}"
    return f"evaluation of audience {key[0]} at {format_timestamp(key[1])}"
