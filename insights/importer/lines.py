"""NDJSON import (contract 4.5): every line through the API's validation; runs and size-only
evaluations inserted in set-based batches; the whole file in one transaction by default."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from tqdm import tqdm

from insights import evaluations, resources
from insights.db import database_failure, is_sqlite
from insights.errors import Conflict, InsightsError, NotFound
from insights.importer.batches import (
    LOADER_RUN_FIELDS,
    SIZE_FIELDS,
    SYNC_RUN_FIELDS,
    Batch,
    ImportFailed,
    ImportReport,
)
from insights.importer.records import RecordType, describe, parse_record
from insights.kinds import KINDS
from insights.models import (
    AudienceEvaluation,
    LoaderRun,
    SyncRun,
    utcnow,
)
from insights.runs import check_rows_synced, check_timeline
from insights.types import format_timestamp
from insights.workspaces import get_workspace

# Lines per batch insert (and per commit when not atomic).
BATCH_LINES = 5_000
PROGRESS_MIN_BYTES = 1 << 20
IMPORT_CACHE_KIB = 256 * 1024


class Importer:
    """Takes the lines of one file, in order, inside the caller's transaction."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        get_workspace(session, workspace_id)  # a 404's error for one that does not exist
        self.session, self.workspace_id = session, workspace_id
        self.report = ImportReport()
        self.parents = known_parents(session, workspace_id)
        # Rows keep the file's order in created_at, as separate API calls would.
        self.started = utcnow()
        self.batches = {
            "sync_id": Batch(SyncRun, ("id",), SYNC_RUN_FIELDS),
            "loader_id": Batch(LoaderRun, ("id",), LOADER_RUN_FIELDS),
            "size": Batch(
                AudienceEvaluation,
                SIZE_FIELDS,
                SIZE_FIELDS,
                (AudienceEvaluation.has_members.is_(False),),
            ),
        }

    def add(self, line: int, raw: bytes) -> None:
        try:
            record_type, record = parse_record(raw)
        except ValidationError as exc:
            raise ImportFailed(f"line {line}", describe(exc)) from None
        try:
            if record_type.kind is not None:
                self._resource(record_type, record)
            elif record_type.run_kind is not None:
                self._run(line, record_type, record)
            else:
                self._evaluation(line, record)
        except ImportFailed:
            raise  # a batch's error names its own lines
        except InsightsError as exc:
            raise ImportFailed(f"line {line}", exc.message) from None

    def flush(self) -> None:
        for batch in self.batches.values():
            batch.flush(self.session, self.workspace_id, self.report)

    def _resource(self, record_type: RecordType, record: Any) -> None:
        kind = record_type.kind
        assert kind is not None
        self.flush()  # keep the file's order: an error is always reported at its first line
        obj, created = resources.create(self.session, self.workspace_id, kind, record)
        self.parents[kind.path].add(obj.id)
        (self.report.created if created else self.report.unchanged)[record_type.name] += 1

    def _run(self, line: int, record_type: RecordType, record: Any) -> None:
        run_kind, column = record_type.run_kind, record_type.parent_field
        assert run_kind is not None and column is not None
        parent_id = getattr(record, column)
        if parent_id not in self.parents[run_kind.parent.path]:
            raise NotFound(f"{run_kind.parent.title} {parent_id} does not exist.")
        check_timeline(record.status, record.started_at, record.completed_at)
        row = record.model_dump()
        check_rows_synced(row)
        keyed = row["id"] is not None
        row.update(self._stamp(line, row["id"]), **{column: parent_id})
        self._queue(self.batches[column], line, record_type.name, keyed, row)

    def _evaluation(self, line: int, record: Any) -> None:
        audience_id = record.audience_id
        if audience_id not in self.parents["audiences"]:
            raise NotFound(f"Audience {audience_id} does not exist.")
        if record.size is not None:
            evaluated_at = record.evaluated_at or evaluations.default_evaluated_at()
            row = {
                "audience_id": audience_id,
                "evaluated_at": evaluated_at,
                "size": record.size,
                "has_members": False,
                **self._stamp(line, None),
            }
            keyed = record.evaluated_at is not None
            self._queue(self.batches["size"], line, "evaluation", keyed, row)
            return
        self.flush()
        if self._member_list_stored(record):
            self.report.unchanged["evaluation"] += 1
            return
        evaluations.record_evaluation(self.session, self.workspace_id, audience_id, record)
        self.report.created["evaluation"] += 1

    def _stamp(self, line: int, row_id: uuid.UUID | None) -> dict[str, Any]:
        created = self.started + timedelta(microseconds=line)
        return {
            "workspace_id": self.workspace_id,
            "id": row_id or uuid.uuid4(),
            "created_at": created,
            "updated_at": created,
        }

    def _queue(self, batch: Batch, line: int, name: str, keyed: bool, row: dict[str, Any]) -> None:
        batch.items.append((line, name, keyed, row))
        if len(batch.items) >= BATCH_LINES:
            batch.flush(self.session, self.workspace_id, self.report)

    def _member_list_stored(self, record: Any) -> bool:
        """Whether this member list was imported before: a re-import skips it, as an `id`
        makes a retried run or resource safe (evaluations have no id)."""
        if record.evaluated_at is None:
            return False
        size = self.session.scalar(
            select(AudienceEvaluation.size)
            .where(
                AudienceEvaluation.workspace_id == self.workspace_id,
                AudienceEvaluation.audience_id == record.audience_id,
                AudienceEvaluation.evaluated_at == record.evaluated_at,
                AudienceEvaluation.has_members.is_(True),
            )
            .limit(1)
        )
        if size is None:
            return False
        if record.members is not None and size != len(set(record.members)):
            raise Conflict(
                f"The member list of audience {record.audience_id} at "
                f"{format_timestamp(record.evaluated_at)} is stored with another size."
            )
        return True


def known_parents(session: Session, workspace_id: uuid.UUID) -> dict[str, set[uuid.UUID]]:
    """The ids a child line may name, by kind path: one query per kind, not one per line."""
    return {path: resources.ids(session, workspace_id, kind) for path, kind in KINDS.items()}


def import_file(
    session: Session,
    workspace_id: uuid.UUID,
    path: Path,
    *,
    atomic: bool = True,
    progress: bool | None = None,
) -> ImportReport:
    """Import the file in the caller's transaction. Not atomic: commit every BATCH_LINES
    lines, so a failure keeps what came before it."""
    started = time.perf_counter()
    importer = Importer(session, workspace_id)
    size = path.stat().st_size
    show = size >= PROGRESS_MIN_BYTES if progress is None else progress
    bar = tqdm(
        total=size, unit="B", unit_scale=True, file=sys.stderr, disable=not show, desc="import"
    )
    _enlarge_page_cache(session)
    with path.open("rb") as lines, bar:
        importer.report.lines = _feed(importer, lines, bar, atomic)
    importer.report.seconds = time.perf_counter() - started
    return importer.report


def _enlarge_page_cache(session: Session) -> None:
    """On SQLite, a page cache large enough for the indexes a long import writes into at
    random places (ids are random): with the default 2 MB, inserts wait on read syscalls.
    It stays with this connection, which a one-shot command closes soon after."""
    if is_sqlite(session):
        session.execute(text(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}"))


def _feed(importer: Importer, lines: Iterable[bytes], bar: Any, atomic: bool) -> int:
    """Every line to the importer; returns how many there were."""
    number, unreported, committed = 0, 0, 0
    try:
        for number, raw in enumerate(lines, start=1):
            if raw.strip():
                importer.add(number, raw)
            unreported += len(raw)
            if number % BATCH_LINES == 0:
                bar.update(unreported)
                unreported = 0
                if not atomic:
                    importer.flush()
                    importer.session.commit()
                    committed = number
        importer.flush()
    except ImportFailed as exc:
        if not atomic:  # atomic: the docs say nothing is stored after an error
            exc.message = exc.message.removesuffix(".") + _stored(atomic, committed)
        raise
    except DBAPIError as exc:
        if isinstance(exc, IntegrityError):
            raise
        # The database went away or refused to go on: say so in one line, without the
        # statement and its row values that SQLAlchemy's message carries.
        failed = ImportFailed(f"line {number}", f"the database failed ({database_failure(exc)})")
        failed.message = failed.message.removesuffix(".") + _stored(atomic, committed)
        raise failed from None
    bar.update(unreported)
    return number


def _stored(atomic: bool, committed: int) -> str:
    """What an error adds about the lines before it: which of them are stored."""
    if atomic:
        return "; nothing of the file was stored."
    if committed == 0:
        return " (no line was stored)."
    return f" (lines 1 to {committed} were stored)."
