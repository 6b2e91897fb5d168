"""How sync-health reads the runs: its one statement reaches the failed runs through the
partial index of failed runs (one range for every sync), never by scanning the wide index
of all runs, which SQLite prefers for its order unless told otherwise; and a long window
reads each sync's whole 16-day blocks and the days before them, as ranges of their keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from insights.reports.sync_health import SyncHealthResponse, sync_health
from tests.support.databases import Database
from tests.support.factories import make_sync, make_sync_run, make_workspace
from tests.support.plans import sqlite_plan

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _plan(db: Database, days: int) -> list[str]:
    """SQLite's plan of sync-health's statement over `days` days, on three syncs with
    failed and completed runs over nine days."""
    if db.kind != "sqlite":
        pytest.skip("PostgreSQL's planner picks by the table's size; SQLite's by the query")
    with db.session() as session, session.begin():
        workspace = make_workspace(session)
        for number in range(3):
            sync = make_sync(session, workspace.id, name=f"Sync {number}")
            for hours in range(0, 24 * 9, 5):
                started = NOW - timedelta(hours=hours)
                status = "failed" if hours % 3 == 0 else "completed"
                make_sync_run(
                    session,
                    workspace.id,
                    sync.id,
                    started_at=started,
                    status=status,
                    completed_at=started + timedelta(minutes=4),
                )

    def report() -> SyncHealthResponse:
        with db.read() as session:
            return sync_health(session, workspace.id, days=days, now=NOW)

    found, details = sqlite_plan(db, lambda statement: "sync_states" in statement, report)
    assert found.total_syncs == 3 and all(e.failed_runs > 0 for e in found.syncs)
    return details


def test_the_failed_runs_are_one_range_of_their_partial_index(db: Database) -> None:
    details = _plan(db, 7)
    assert any("ix_sync_runs_failed (workspace_id=? AND started_at>?)" in d for d in details)
    assert not any(d.startswith("SCAN sync_runs") for d in details), details
    # Every read of the runs is an index range: per sync, or of the failed runs.
    run_reads = [d for d in details if "sync_runs" in d and "sync_runs_" not in d[:12]]
    assert run_reads and all("started_at>?" in d for d in run_reads), run_reads
    assert not any("sync_run_blocks" in d for d in details), details  # 7 days: days only


def test_a_long_window_reads_whole_blocks_and_the_days_before_them(db: Database) -> None:
    details = _plan(db, 90)
    blocks = "sync_run_blocks USING PRIMARY KEY (workspace_id=? AND sync_id=? AND block>?)"
    assert any(blocks in d for d in details), details
    head = "sync_run_days USING PRIMARY KEY (workspace_id=? AND sync_id=? AND day>? AND day<?)"
    assert any(head in d for d in details), details
    assert not any(d.startswith("SCAN sync_run") for d in details), details
