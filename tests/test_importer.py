"""NDJSON import: every record with its parent, the API's validation line by line, nothing
stored after a bad line, and a re-import that changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from insights import members
from insights.db import transaction
from insights.importer import ImportFailed, ImportReport, import_file
from insights.importer import lines as importer
from insights.models import (
    Audience,
    AudienceEvaluation,
    Destination,
    Loader,
    LoaderRun,
    Model,
    Source,
    Sync,
    SyncRun,
)
from tests.support.databases import Database
from tests.support.factories import make_sync, make_workspace

TABLES = (
    Source,
    Model,
    Destination,
    Audience,
    Sync,
    Loader,
    SyncRun,
    LoaderRun,
    AudienceEvaluation,
)
IDS = {
    name: str(uuid.UUID(int=index + 1))
    for index, name in enumerate(
        (
            "source",
            "model",
            "destination",
            "audience",
            "sync",
            "audience_sync",
            "loader",
            "run1",
            "run2",
            "run3",
            "run4",
        )
    )
}


def _records() -> list[dict[str, Any]]:
    """One of each type, parents first, children naming them by id."""
    run = {
        "status": "completed",
        "started_at": "2024-03-01T10:00:00Z",
        "completed_at": "2024-03-01T10:02:30+00:00",
    }
    return [
        {"type": "source", "id": IDS["source"], "name": "Warehouse", "source_type": "snowflake"},
        {"type": "model", "id": IDS["model"], "name": "Customers", "source_id": IDS["source"]},
        {
            "type": "destination",
            "id": IDS["destination"],
            "name": "Google Ads",
            "destination_type": "google_ads",
        },
        {
            "type": "audience",
            "id": IDS["audience"],
            "name": "Buyers",
            "parent_model_id": IDS["model"],
        },
        {
            "type": "sync",
            "id": IDS["sync"],
            "name": "Customers to Ads",
            "model_id": IDS["model"],
            "destination_id": IDS["destination"],
        },
        {
            "type": "audience_sync",
            "id": IDS["audience_sync"],
            "name": "Buyers to Ads",
            "audience_id": IDS["audience"],
            "destination_id": IDS["destination"],
        },
        {
            "type": "loader",
            "id": IDS["loader"],
            "name": "Events",
            "loader_type": "s3",
            "source_id": IDS["source"],
        },
        {
            "type": "sync_run",
            "id": IDS["run1"],
            "sync_id": IDS["sync"],
            **run,
            "rows_created": 10,
            "rows_updated": 5,
        },
        {
            "type": "sync_run",
            "id": IDS["run2"],
            "sync_id": IDS["sync"],
            "status": "running",
            "started_at": "2024-03-01T12:00:00+02:00",
        },
        {
            "type": "audience_sync_run",
            "id": IDS["run3"],
            "sync_id": IDS["audience_sync"],
            **run,
            "status": "failed",
            "error": "HTTP 503",
        },
        {
            "type": "loader_run",
            "id": IDS["run4"],
            "loader_id": IDS["loader"],
            **run,
            "rows_loaded": 1200,
        },
        {
            "type": "evaluation",
            "audience_id": IDS["audience"],
            "evaluated_at": "2024-02-28T06:00:00Z",
            "size": 2,
        },
        {
            "type": "evaluation",
            "audience_id": IDS["audience"],
            "evaluated_at": "2024-03-01T06:00:00Z",
            "members": ["a", "b", "c", "c"],
        },
        {
            "type": "evaluation",
            "audience_id": IDS["audience"],
            "evaluated_at": "2024-03-02T06:00:00Z",
            "added": ["d"],
            "removed": ["a"],
        },
    ]


def _write(tmp_path: Path, lines: Sequence[str | dict[str, Any]]) -> Path:
    path = tmp_path / "import.ndjson"
    text = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path.write_text("\n".join(text) + "\n")
    return path


def _import(db: Database, workspace_id: uuid.UUID, path: Path, **options: Any) -> ImportReport:
    """As the CLI runs it: one transaction that commits at the end (and, not atomic, on
    the way), rolled back on a failure."""
    with transaction(db.write) as session:
        return import_file(session, workspace_id, path, progress=False, **options)


def _counts(db: Database, workspace_id: uuid.UUID) -> dict[str, int]:
    with db.session() as session:
        return {
            table.__tablename__: session.scalar(
                select(func.count()).select_from(table).where(table.workspace_id == workspace_id)
            )
            or 0
            for table in TABLES
        }


def test_mixed_file_imports_every_record_with_its_parent(
    db: Database, workspace_id: uuid.UUID, tmp_path: Path
) -> None:
    report = _import(db, workspace_id, _write(tmp_path, ["", *_records(), "  "]))
    assert report.lines == 16
    assert report.created["sync_run"] == 2 and report.created["evaluation"] == 3
    assert _counts(db, workspace_id) == {
        "sources": 1,
        "models": 1,
        "destinations": 1,
        "audiences": 1,
        "syncs": 2,
        "loaders": 1,
        "sync_runs": 3,
        "loader_runs": 1,
        "audience_evaluations": 3,
    }
    with db.session() as session:
        runs = {run.id: run for run in session.scalars(select(SyncRun))}
        kinds = dict(session.execute(select(Sync.id, Sync.kind)).tuples().all())
        loader_run = session.scalars(select(LoaderRun)).one()
        current = members.current_bitmap(session, workspace_id, uuid.UUID(IDS["audience"]))
    assert kinds[runs[uuid.UUID(IDS["run1"])].sync_id] == "model"
    assert kinds[runs[uuid.UUID(IDS["run3"])].sync_id] == "audience"
    assert runs[uuid.UUID(IDS["run1"])].rows_created == 10
    assert runs[uuid.UUID(IDS["run2"])].started_at.hour == 10  # converted to UTC
    assert str(loader_run.loader_id) == IDS["loader"] and loader_run.rows_loaded == 1200
    assert current is not None and len(current[1]) == 3  # {b, c, d}


def test_reimport_of_the_same_file_changes_nothing(
    db: Database, workspace_id: uuid.UUID, tmp_path: Path
) -> None:
    path = _write(tmp_path, _records())
    first = _import(db, workspace_id, path)
    counts = _counts(db, workspace_id)
    again = _import(db, workspace_id, path)
    assert _counts(db, workspace_id) == counts
    assert not again.created
    assert again.unchanged == first.created


def _other_workspace_sync(db: Database) -> str:
    with db.session() as session, session.begin():
        other = make_workspace(session, name="Other")
        return str(make_sync(session, other.id).id)


# A line (raw text, or a record written as JSON) and what the refusal must say.
BAD_LINES: dict[str, tuple[str | dict[str, Any], str]] = {
    "bad JSON": ('{"type": "source", "name": ', "not valid JSON"),
    "not an object": ("[1, 2]", "a record must be a JSON object"),
    "no type": ({"name": "x"}, "field type is required"),
    "unknown type": ({"type": "widget"}, "unknown type 'widget'"),
    "unknown field": (
        {"type": "destination", "name": "X", "destination_type": "braze", "colour": "red"},
        "unknown field colour",
    ),
    "missing field": ({"type": "source", "name": "X"}, "field source_type is required"),
    "naive timestamp": (
        {
            "type": "sync_run",
            "sync_id": IDS["sync"],
            "status": "running",
            "started_at": "2024-03-01T10:00:00",
        },
        "field started_at is invalid",
    ),
    "missing parent": (
        {
            "type": "loader_run",
            "loader_id": str(uuid.UUID(int=99)),
            "status": "queued",
            "started_at": "2024-03-01T10:00:00Z",
        },
        f"loader {uuid.UUID(int=99)} does not exist",
    ),
    "parent of another kind": (
        {
            "type": "audience_sync_run",
            "sync_id": IDS["sync"],
            "status": "queued",
            "started_at": "2024-03-01T10:00:00Z",
        },
        f"audience-sync {IDS['sync']} does not exist",
    ),
    "finished without completed_at": (
        {
            "type": "sync_run",
            "sync_id": IDS["sync"],
            "status": "failed",
            "started_at": "2024-03-01T10:00:00Z",
        },
        "completed_at is required when the status is failed",
    ),
    "completed before started": (
        {
            "type": "sync_run",
            "sync_id": IDS["sync"],
            "status": "completed",
            "started_at": "2024-03-01T10:00:00Z",
            "completed_at": "2024-03-01T09:00:00Z",
        },
        "completed_at must not be before started_at",
    ),
    "reference to nothing": (
        {"type": "model", "name": "M", "source_id": IDS["destination"]},
        "does not name a source of this workspace",
    ),
    "run id reused": (
        {
            "type": "sync_run",
            "id": IDS["run1"],
            "sync_id": IDS["sync"],
            "status": "queued",
            "started_at": "2024-03-01T10:00:00Z",
        },
        f"run {IDS['run1']} already exists with other content",
    ),
    "one form of evaluation": (
        {"type": "evaluation", "audience_id": IDS["audience"], "size": 3, "members": ["a"]},
        "exactly one of",
    ),
}


@pytest.mark.parametrize("case", BAD_LINES, ids=list(BAD_LINES))
def test_bad_line_reports_its_number_and_stores_nothing(
    db: Database,
    workspace_id: uuid.UUID,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    monkeypatch.setattr(importer, "BATCH_LINES", 2)  # earlier runs are inserted already
    bad, reason = BAD_LINES[case]
    records = _records()
    path = _write(tmp_path, [*records, bad, *records[7:9]])
    with pytest.raises(ImportFailed) as failure:
        _import(db, workspace_id, path)
    assert failure.value.message.startswith(f"Line {len(records) + 1}: ")
    assert reason in failure.value.message
    assert not any(_counts(db, workspace_id).values())


def test_parent_in_another_workspace_is_refused(
    db: Database, workspace_id: uuid.UUID, tmp_path: Path
) -> None:
    foreign = _other_workspace_sync(db)
    line = {
        "type": "sync_run",
        "sync_id": foreign,
        "status": "queued",
        "started_at": "2024-03-01T10:00:00Z",
    }
    with pytest.raises(ImportFailed, match=f"^Line 1: sync {foreign} does not exist\\.$"):
        _import(db, workspace_id, _write(tmp_path, [line]))


def test_not_atomic_keeps_the_lines_before_a_bad_one(
    db: Database, workspace_id: uuid.UUID, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_LINES", 4)
    records = _records()
    path = _write(tmp_path, [*records[:9], {"type": "widget"}])
    with pytest.raises(ImportFailed, match="lines 1 to 8 were stored"):
        _import(db, workspace_id, path, atomic=False)
    counts = _counts(db, workspace_id)
    assert counts["syncs"] == 2 and counts["sync_runs"] == 1


def test_import_command_exits_non_zero_on_a_bad_line(
    db: Database, workspace_id: uuid.UUID, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from insights.cli import main
    from insights.settings import get_settings

    monkeypatch.setenv("INSIGHTS_DATABASE_URL", db.url)
    get_settings.cache_clear()
    good = _write(tmp_path, _records()[:3])
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"type": "source", "name": "W", "source_type": "x"}\n{"type": 1}\n')
    try:
        runs = [
            CliRunner().invoke(main, ["import", str(path), "--workspace", str(workspace_id)])
            for path in (bad, good)
        ]
    finally:
        get_settings.cache_clear()
    assert runs[0].exit_code != 0 and "Line 2: " in runs[0].stderr
    assert runs[1].exit_code == 0, runs[1].output
    assert json.loads(runs[1].stdout)["created"] == {"source": 1, "model": 1, "destination": 1}
    assert _counts(db, workspace_id)["sources"] == 1
