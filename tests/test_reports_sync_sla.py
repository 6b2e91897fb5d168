"""sync-sla (contract 8.4) read from the rollups, the completions index (migration 0013)
and one vectorised pass equals a plain reading of the runs: on random histories in a zone
with a DST change, with several targets, paused syncs and syncs without one, runs that
straddle the window's start or end after now, on both databases; and the vectorised
freshness equals the pieces' reading on random completions, sorted or not."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from insights.db import make_engine, migrate
from insights.reports.freshness import Freshness, freshness
from insights.reports.sync_sla import sync_sla
from tests.support import oracle
from tests.support.databases import Database
from tests.support.factories import make_sync, make_sync_run, make_workspace
from tests.support.oracle import Run, utc
from tests.support.plans import sqlite_plan

# Four days after New York's spring change (2024-03-10): 7- and 30-day windows cross it.
NOW = utc(2024, 3, 14, 15, 30, 0)
ZONE = "America/New_York"
TARGETS = [(None, 600), (60, None), (180, 45), (1, 1), (720, 3600), (30, 59)]


def _runs(rng: random.Random, count: int, first_order: int) -> list[Run]:
    """Runs over the 32 days before NOW to 2 hours after it, some of them lasting hours
    or days (so they straddle the window's start), now and then two at one start."""
    runs: list[Run] = []
    for index in range(count):
        started = NOW - timedelta(seconds=rng.randrange(-2 * 3600, 32 * 86400))
        if runs and rng.random() < 0.08:
            started = runs[-1].started_at
        status = rng.choice(["completed"] * 7 + ["failed", "cancelled", "queued"])
        seconds = rng.choice([0, 1, 30, 45, 60, 600, 3599, 3600, 7200, 86400, 3 * 86400])
        completed = None if status == "queued" else started + timedelta(seconds=seconds)
        runs.append(Run(started, status, completed, order=first_order + index))
    return runs


@pytest.fixture
def history(db: Database) -> tuple[uuid.UUID, dict[uuid.UUID, tuple[list[Run], Any]]]:
    """A New York workspace with 16 syncs of random runs and targets: paused ones, some
    without a target, one with targets and no run."""
    rng = random.Random(8_4)
    found: dict[uuid.UUID, tuple[list[Run], Any]] = {}
    with db.session() as session, session.begin():
        workspace = make_workspace(session, timezone=ZONE)
        for number in range(16):
            minutes, limit = rng.choice([*TARGETS, (None, None)])
            status = "paused" if number % 5 == 4 else "active"
            sync = make_sync(
                session,
                workspace.id,
                name=f"S{number:02d}",
                status=status,
                sla_freshness_minutes=minutes,
                sla_duration_seconds=limit,
            )
            runs = [] if number == 3 else _runs(rng, rng.choice([1, 5, 40, 150]), number * 1000)
            for run in runs:
                make_sync_run(
                    session,
                    workspace.id,
                    sync.id,
                    id=uuid.UUID(int=run.order + 1),
                    started_at=run.started_at,
                    status=run.status,
                    completed_at=run.completed_at,
                )
            found[sync.id] = (runs, sync)
    return workspace.id, found


@pytest.mark.parametrize("days", [1, 7, 30])
def test_sync_sla_equals_a_reading_of_the_runs(
    db: Database, history: tuple[uuid.UUID, dict[uuid.UUID, tuple[list[Run], Any]]], days: int
) -> None:
    workspace_id, syncs = history
    for now in (NOW, NOW - timedelta(hours=5, seconds=7)):
        with db.read() as session:
            report = sync_sla(session, workspace_id, days=days, now=now, include_paused=True)
        listed = {
            sync_id
            for sync_id, (_, sync) in syncs.items()
            if sync.sla_freshness_minutes is not None or sync.sla_duration_seconds is not None
        }
        assert {entry.sync_id for entry in report.syncs} == listed
        for entry in report.syncs:
            runs, sync = syncs[entry.sync_id]
            expected = oracle.sla_entry(
                runs, now, days, sync.sla_freshness_minutes, sync.sla_duration_seconds
            )
            dumped = entry.model_dump(mode="json")
            del dumped["sync_id"], dumped["sync_name"]
            assert dumped == expected, (entry.sync_name, days, now)


def test_vectorised_freshness_equals_the_pieces_on_random_completions() -> None:
    rng = random.Random(12)
    end = int(NOW.timestamp())
    start = end - 86400
    completions: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    targets: list[int] = []
    for _ in range(300):
        target = 60 * rng.choice([1, 5, 60, 180, 1440, 3000])
        count = rng.choice([0, 1, 2, 3, 10, 60])
        # From before the window less the target to now, often on the edges themselves.
        edges = [start - target, start, end - target, end, start - target - 1, end - target - 1]
        moments = [
            rng.choice(edges) if rng.random() < 0.2 else rng.randrange(start - target, end + 1)
            for _ in range(count)
        ]
        # Some exactly one target after another: their fresh stretches touch.
        moments += [m + target for m in moments[:3] if m + target <= end and rng.random() < 0.5]
        completions.append(np.array(moments, dtype=np.int64))  # unsorted, repeats kept
        targets.append(target)
    found = freshness(completions, targets, start, end)
    for values, target, got in zip(completions, targets, found, strict=True):
        stale, breaches, stale_now = oracle.stale_by_pieces(values.tolist(), target, start, end)
        assert got == Freshness(end - start - stale, breaches, stale_now), (values, target)
    assert freshness([], [], start, end) == []
    assert freshness([np.empty(0, np.int64)], [60], start, end) == [Freshness(0, 1, True)]


def test_the_completions_are_one_index_range_per_sync(db: Database) -> None:
    if db.kind != "sqlite":
        pytest.skip("PostgreSQL's planner picks by the table's size; SQLite's by the query")
    with db.session() as session, session.begin():
        workspace = make_workspace(session)
        for number in range(3):
            sync = make_sync(session, workspace.id, name=f"S{number}", sla_freshness_minutes=60)
            for hours in range(0, 24 * 3, 2):
                make_sync_run(
                    session,
                    workspace.id,
                    sync.id,
                    started_at=NOW - timedelta(hours=hours),
                    duration=60,
                )

    def report() -> None:
        with db.read() as session:
            sync_sla(session, workspace.id, days=1, now=NOW)

    chosen = "unixepoch(sync_runs.completed_at)"
    _, plan = sqlite_plan(db, lambda statement: chosen in statement, report)
    details = " | ".join(plan)
    assert (
        "USING COVERING INDEX ix_sync_runs_workspace_id_sync_id_status_completed_at"
        " (workspace_id=? AND sync_id=? AND status=? AND completed_at>? AND completed_at<?)"
    ) in details, details


def _run_indexes(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {index["name"] or "" for index in inspect(engine).get_indexes("sync_runs")}
    finally:
        engine.dispose()


def test_the_migration_replaces_the_completions_index_and_goes_down(
    empty_database: str,
) -> None:
    old, new = (
        "ix_sync_runs_workspace_id_sync_id_completed_at",
        "ix_sync_runs_workspace_id_sync_id_status_completed_at",
    )
    migrate(empty_database, "0012")
    assert old in _run_indexes(empty_database) and new not in _run_indexes(empty_database)
    migrate(empty_database)
    assert new in _run_indexes(empty_database) and old not in _run_indexes(empty_database)
    engine = make_engine(empty_database)
    try:
        with Session(engine) as session, session.begin():
            workspace_id = make_workspace(session).id
            sync = make_sync(session, workspace_id, sla_freshness_minutes=60)
            make_sync_run(session, workspace_id, sync.id, started_at=NOW - timedelta(hours=2))
        with Session(engine) as session:
            entry = sync_sla(session, workspace_id, days=1, now=NOW).syncs[0]
        assert (entry.state, entry.freshness_breaches) == ("breached", 2)
    finally:
        engine.dispose()
    migrate(empty_database, "0012", down=True)
    assert old in _run_indexes(empty_database) and new not in _run_indexes(empty_database)
