"""The rollups the sync reports read (sync_run_days, sync_states, kept by triggers on the
run table, and sync_run_blocks, kept by triggers on the days) equal what the runs say,
through random inserts, bulk inserts, updates, deletes and a deleted sync; sync-health read
through them equals an independent reading of the contract; writers of one sync racing on
PostgreSQL leave what a sequential run would; and the migrations backfill runs stored
before them."""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import (
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from insights.db import bulk_runs, insert_rows, make_engine, migrate
from insights.models import (
    Base,
    Sync,
    SyncRun,
    SyncRunBlock,
    SyncRunDay,
    SyncState,
)
from insights.reports.sync_health import sync_health
from tests.support import old_schema, oracle
from tests.support.databases import Database
from tests.support.factories import make_sync, make_workspace
from tests.support.oracle import Run

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BASE = datetime(2024, 5, 20, tzinfo=UTC)  # a midnight: runs land on it and around it
BIG = 2**63 - 1
FINISHED = ("completed", "failed")
Day = tuple[uuid.UUID, int]


def _random_run(rng: random.Random, sync_id: uuid.UUID) -> dict[str, Any]:
    """A run's columns: started in the 40 days from BASE, often on a midnight or a second
    shared with another run; finished ones last 0 s to a day; row counts up to 2**63 - 1."""
    started = BASE + timedelta(seconds=rng.choice([0, 1, 86399, 86400, rng.randrange(40 * 86400)]))
    started += timedelta(days=rng.randrange(0, 30)) if rng.random() < 0.5 else timedelta()
    status = rng.choice(["completed"] * 5 + ["failed"] * 2 + ["running", "queued", "cancelled"])
    finished = status in ("completed", "failed", "cancelled")
    seconds = rng.choice([0, 1, 59, 3600, 86400, rng.randrange(7200)])
    return {
        "id": uuid.uuid4(),
        "sync_id": sync_id,
        "status": status,
        "started_at": started,
        "completed_at": started + timedelta(seconds=seconds) if finished else None,
        "rows_created": rng.choice([0, 7, 2**40, BIG]),
        "rows_updated": rng.choice([0, 3, BIG]),
        "rows_deleted": rng.choice([0, 1, 2**33 + 5]),
    }


def _runs(session: Session, workspace_id: uuid.UUID) -> list[SyncRun]:
    return list(session.scalars(select(SyncRun).where(SyncRun.workspace_id == workspace_id)))


def _day(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(days=1)


def _expected_days(runs: list[SyncRun]) -> dict[Day, tuple[int, int, int, int]]:
    """(completed, failed, duration seconds, rows synced) per sync and UTC day, summed in
    Python from the runs."""
    sums: dict[Day, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for run in runs:
        if run.status not in FINISHED:
            continue
        day = sums[(run.sync_id, _day(run.started_at))]
        if run.status == "failed":
            day[1] += 1
            continue
        assert run.completed_at is not None
        day[0] += 1
        day[2] += int((run.completed_at - run.started_at).total_seconds())
        day[3] += run.rows_created + run.rows_updated + run.rows_deleted
    return {key: (a, b, c, d) for key, (a, b, c, d) in sums.items()}


def _stored_days(session: Session, workspace_id: uuid.UUID) -> dict[Day, tuple[int, ...]]:
    return _stored(session, workspace_id, SyncRunDay, SyncRunDay.day)


def _stored(
    session: Session, workspace_id: uuid.UUID, table: Any, period: Any
) -> dict[Day, tuple[int, ...]]:
    """(completed, failed, duration seconds, rows synced) per sync and `period` (a day or
    a block) as stored, the rows of zeros left out."""
    rows = session.execute(
        select(
            table.sync_id,
            period,
            table.completed,
            table.failed,
            table.duration_sum,
            table.rows_high,
            table.rows_low,
        ).where(table.workspace_id == workspace_id)
    )
    stored = {
        (sync_id, at): (completed, failed, seconds, (high << 32) + low)
        for sync_id, at, completed, failed, seconds, high, low in rows
    }
    return {key: sums for key, sums in stored.items() if any(sums)}


def _expected_blocks(runs: list[SyncRun]) -> dict[Day, tuple[int, ...]]:
    """The expected days summed per sync and block of 16 days."""
    sums: dict[Day, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (sync_id, day), values in _expected_days(runs).items():
        block = sums[(sync_id, day // 16)]
        for position, value in enumerate(values):
            block[position] += value
    return {key: tuple(values) for key, values in sums.items() if any(values)}


def _stored_blocks(session: Session, workspace_id: uuid.UUID) -> dict[Day, tuple[int, ...]]:
    return _stored(session, workspace_id, SyncRunBlock, SyncRunBlock.block)


def _latest(runs: list[SyncRun], *statuses: str) -> SyncRun | None:
    """The latest run (by started_at, a tie to the larger id, as the database orders UUIDs)."""
    chosen = [run for run in runs if not statuses or run.status in statuses]
    return max(chosen, key=lambda run: (run.started_at, run.id.hex), default=None)


def _expected_state(runs: list[SyncRun]) -> tuple[Any, ...]:
    last, finished, completed = _latest(runs), _latest(runs, *FINISHED), _latest(runs, "completed")
    successes = [run.completed_at for run in runs if run.status == "completed"]
    history = []
    if completed is not None:
        since = completed.started_at - timedelta(days=30)
        history = [
            int((run.completed_at - run.started_at).total_seconds())
            for run in runs
            if run.status == "completed"
            and run.completed_at is not None
            and since <= run.started_at < completed.started_at
        ]
    return (
        None if last is None else last.status,
        max((run.started_at for run in runs), default=None),
        None if finished is None else finished.status,
        None if completed is None else completed.started_at,
        None if completed is None else completed.completed_at,
        max((moment for moment in successes if moment is not None), default=None),
        sum(history),
        len(history),
    )


def _stored_state(state: SyncState) -> tuple[Any, ...]:
    return (
        state.last_status,
        state.last_started_at,
        state.last_finished_status,
        state.latest_completed_started,
        state.latest_completed_at,
        state.last_success_at,
        state.mean_duration_sum,
        state.mean_duration_count,
    )


def _assert_rollups_match(
    sessions: Callable[[], Session], workspace_id: uuid.UUID, blocks: bool = True
) -> None:
    """The days, blocks (unless the schema predates them) and states the runs make."""
    with sessions() as session:
        runs = _runs(session, workspace_id)
        assert _stored_days(session, workspace_id) == _expected_days(runs)
        if blocks:
            assert _stored_blocks(session, workspace_id) == _expected_blocks(runs)
        by_sync: dict[uuid.UUID, list[SyncRun]] = defaultdict(list)
        for run in runs:
            by_sync[run.sync_id].append(run)
        states = session.scalars(select(SyncState).where(SyncState.workspace_id == workspace_id))
        stored = {state.sync_id: _stored_state(state) for state in states}
        expected = {sync_id: _expected_state(found) for sync_id, found in by_sync.items()}
        # A sync whose runs were all deleted keeps a state row of nothing.
        nothing = (None, None, None, None, None, None, 0, 0)
        assert {key: value for key, value in stored.items() if value != nothing} == expected


def _write_randomly(
    db: Database, workspace_id: uuid.UUID, syncs: list[uuid.UUID], seed: int
) -> None:
    """Rounds of inserts (ORM and bulk), updates that finish runs, move them across days or
    change their counts, and deletes; the rollups are checked after every round."""
    rng = random.Random(seed)
    for round_number in range(5):
        with db.session() as session, session.begin():
            for _ in range(rng.randrange(10, 40)):
                session.add(
                    SyncRun(workspace_id=workspace_id, **_random_run(rng, rng.choice(syncs)))
                )
            bulk = [
                {"workspace_id": workspace_id, **_random_run(rng, rng.choice(syncs))}
                for _ in range(rng.randrange(5, 20))
            ]
            session.execute(insert(SyncRun), bulk)
        with db.session() as session, session.begin():
            runs = _runs(session, workspace_id)
            for run in rng.sample(runs, k=min(len(runs), 25)):
                action = rng.choice(["finish", "move", "rows", "fail", "delete"])
                if action == "finish" and run.status in ("queued", "running"):
                    run.status = "completed"
                    run.completed_at = run.started_at + timedelta(seconds=rng.randrange(5000))
                elif action == "move":
                    shift = timedelta(seconds=rng.choice([-86400, -1, 1, 3600, 86400 * 3]))
                    run.started_at += shift
                    if run.completed_at is not None:
                        run.completed_at += shift
                elif action == "rows":
                    run.rows_updated = rng.choice([0, 11, BIG])
                elif action == "fail" and run.status == "completed":
                    run.status = "failed"
                elif action == "delete":
                    session.delete(run)
        if round_number == 3:  # a whole sync goes, with its runs, days and state
            with db.session() as session, session.begin():
                gone = syncs.pop()
                session.execute(delete(Sync).where(Sync.id == gone))
        _assert_rollups_match(db.session, workspace_id)


def _syncs(db: Database, workspace_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    with db.session() as session, session.begin():
        return [make_sync(session, workspace_id, name=f"Sync {n}").id for n in range(count)]


def test_rollups_equal_the_runs_through_random_writes(
    db: Database, workspace_id: uuid.UUID
) -> None:
    _write_randomly(db, workspace_id, _syncs(db, workspace_id, 4), seed=13_0)


def test_sync_health_through_the_rollups_equals_the_contract_on_random_histories(
    db: Database,
) -> None:
    """Windows of every size, `now` anywhere in the history (some runs start after it), and
    a sync with no run: counts, sums and scores as an independent reading says."""
    rng = random.Random(13_1)
    with db.session() as session, session.begin():
        workspace_id = make_workspace(session).id
    syncs = _syncs(db, workspace_id, 5)
    histories: dict[uuid.UUID, list[dict[str, Any]]] = {sync_id: [] for sync_id in syncs}
    with db.session() as session, session.begin():
        for sync_id in syncs[:-1]:
            for _ in range(rng.randrange(20, 80)):
                run = _random_run(rng, sync_id)
                histories[sync_id].append(run)
                session.add(SyncRun(workspace_id=workspace_id, **run))
    for _ in range(16):
        now = BASE + timedelta(seconds=rng.randrange(-86400, 75 * 86400))
        # 32 days and more read whole 16-day blocks (sync_run_blocks) and the days before.
        days = rng.choice([1, 2, 7, 30, 32, 45, 90, 365])
        with db.session() as session:
            report = sync_health(session, workspace_id, days=days, now=now)
        for entry in report.syncs:
            _assert_entry(entry.model_dump(), histories[entry.sync_id], now, days)


def _assert_entry(
    entry: dict[str, Any], history: list[dict[str, Any]], now: datetime, days: int
) -> None:
    start = now - timedelta(days=days)
    window = [run for run in history if run["status"] in FINISHED and run["started_at"] >= start]
    completed = [run for run in window if run["status"] == "completed"]
    seconds = [int((run["completed_at"] - run["started_at"]).total_seconds()) for run in completed]
    rows = sum(run["rows_created"] + run["rows_updated"] + run["rows_deleted"] for run in completed)
    assert entry["total_runs"] == len(window)
    assert entry["failed_runs"] == len(window) - len(completed)
    assert entry["total_rows_synced"] == rows
    assert entry["avg_duration_seconds"] == (
        oracle.half_up_int(Fraction(sum(seconds), len(seconds))) if seconds else None
    )
    ordered = sorted(history, key=lambda run: run["id"].hex)
    runs = [
        Run(run["started_at"], run["status"], run["completed_at"], order=index)
        for index, run in enumerate(ordered)
    ]
    assert (entry["health_score"], entry["health_status"]) == oracle.score(runs, now, None)
    if entry["health_score"] is not None:
        assert entry["health_components"] == oracle.components(runs, now, None)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_writers_of_one_sync_racing_leave_the_rollups_a_sequential_run_would(
    db: Database, workspace_id: uuid.UUID
) -> None:
    """Four threads, each on its own connection, insert, finish and delete runs of the same
    two syncs at once, in small transactions: the trigger locks the sync's state before
    reading its runs, so no write is lost from the sums or the latest runs."""
    syncs = _syncs(db, workspace_id, 2)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(30):
                with db.session() as session, session.begin():
                    run = SyncRun(workspace_id=workspace_id, **_random_run(rng, rng.choice(syncs)))
                    session.add(run)
                    session.flush()
                    if run.status == "running" and rng.random() < 0.5:
                        run.status, run.completed_at = (
                            "completed",
                            run.started_at + timedelta(seconds=9),
                        )
                    elif rng.random() < 0.1:
                        session.delete(run)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(13_2 + n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_rollups_match(db.session, workspace_id)


def _stored_run(workspace_id: uuid.UUID, run: dict[str, Any]) -> dict[str, Any]:
    """A run row as revision 0005 stores it (no ORM defaults: the table, not the model)."""
    when = {"created_at": BASE, "updated_at": BASE}
    counts = {"rows_processed": 0, "rows_failed": 0}
    return {"workspace_id": workspace_id, "trigger": "schedule", **when, **counts, **run}


def test_the_migration_backfills_the_runs_stored_before_it(empty_database: str) -> None:
    migrate(empty_database, "0005")
    engine = make_engine(empty_database)
    tables = Base.metadata.tables
    try:
        rng = random.Random(13_3)
        with Session(engine) as session, session.begin():
            workspace_id = old_schema.workspace(session)
            syncs = [old_schema.sync(session, workspace_id) for _ in range(3)]
            session.execute(
                insert(tables["sync_runs"]),
                [
                    _stored_run(workspace_id, _random_run(rng, rng.choice(syncs)))
                    for _ in range(200)
                ],
            )
        migrate(empty_database)
        _assert_rollups_match(lambda: Session(engine), workspace_id)
        with Session(engine) as session, session.begin():
            session.execute(delete(SyncRun).where(SyncRun.workspace_id == workspace_id))
        _assert_rollups_match(lambda: Session(engine), workspace_id)
    finally:
        engine.dispose()


def test_sqlite_keeps_the_day_rollups_clustered_by_their_key(empty_database: str) -> None:
    """Migration 0009 makes sync_run_days a WITHOUT ROWID table on SQLite and back, with its
    rows, and the rollup triggers (dropped around the rebuild) still keep it."""
    if not empty_database.startswith("sqlite"):
        pytest.skip("PostgreSQL has no such kind of table: 0009 changes nothing there")
    migrate(empty_database)
    engine = make_engine(empty_database)
    try:
        rng = random.Random(13_5)
        with Session(engine) as session, session.begin():
            workspace_id = make_workspace(session).id
            syncs = [make_sync(session, workspace_id).id for _ in range(3)]
            for _ in range(60):
                session.add(
                    SyncRun(workspace_id=workspace_id, **_random_run(rng, rng.choice(syncs)))
                )
        for revision, clustered in (("0008", False), ("head", True)):
            migrate(empty_database, revision, down=revision != "head")
            with engine.connect() as connection:
                schema = connection.scalar(
                    text("SELECT sql FROM sqlite_master WHERE name = 'sync_run_days'")
                )
                triggers = connection.scalar(
                    text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'sync_rollups_%'")
                )
            assert ("WITHOUT ROWID" in schema) is clustered
            assert triggers == 3
            _assert_rollups_match(lambda: Session(engine), workspace_id, blocks=clustered)
        with Session(engine) as session, session.begin():
            session.add(SyncRun(workspace_id=workspace_id, **_random_run(rng, syncs[0])))
            session.execute(delete(SyncRun).where(SyncRun.sync_id == syncs[1]))
        _assert_rollups_match(lambda: Session(engine), workspace_id)
    finally:
        engine.dispose()


def test_a_bulk_load_leaves_the_rollups_of_its_runs(db: Database, workspace_id: uuid.UUID) -> None:
    """db.bulk_runs (the benchmark builder's load: PostgreSQL's trigger off, the rollups made
    again at the end) ends where the triggers would have: runs of another workspace too."""
    syncs = _syncs(db, workspace_id, 3)
    with db.session() as session, session.begin():
        other = make_workspace(session).id
        elsewhere = make_sync(session, other).id
    rng = random.Random(13_4)
    with db.session() as session, session.begin():
        session.add(SyncRun(workspace_id=other, **_random_run(rng, elsewhere)))
        session.add(SyncRun(workspace_id=workspace_id, **_random_run(rng, syncs[0])))
    with db.session() as session, session.begin(), bulk_runs(session, workspace_id):
        rows = [
            {"workspace_id": workspace_id, **_random_run(rng, rng.choice(syncs))}
            for _ in range(300)
        ]
        insert_rows(session, SyncRun.__table__, rows)
    _assert_rollups_match(db.session, workspace_id)
    _assert_rollups_match(db.session, other)
    with db.session() as session, session.begin():  # the trigger is back on
        session.add(SyncRun(workspace_id=workspace_id, **_random_run(rng, syncs[1])))
    _assert_rollups_match(db.session, workspace_id)


def _primary_key_reads(session: Session) -> int:
    """Index entries the scans of sync_runs' primary key have returned (this schema's)."""
    session.execute(text("SELECT pg_stat_clear_snapshot()"))
    found = session.scalar(
        text(
            "SELECT idx_tup_read FROM pg_stat_user_indexes"
            " WHERE indexrelid = 'pk_sync_runs'::regclass"
        )
    )
    return int(found or 0)


def test_the_state_probes_use_the_sync_index_before_any_analyze(empty_database: str) -> None:
    """Migration 0014: in a new database, before the planner has statistics, each run
    insert's latest-run probes read the runs of one second through the per-sync index, not
    the whole workspace in primary-key order (0006's form did, so inserts slowed as runs
    grew). 300 runs of two syncs, one statement each, then 50 more: the primary key is not
    scanned for them (0006's probes read ~29,000 of its entries here)."""
    if empty_database.startswith("sqlite"):
        pytest.skip("SQLite plans the probe by the per-sync index without statistics")
    migrate(empty_database)
    engine = make_engine(empty_database)
    try:
        rng = random.Random(13_6)
        with Session(engine) as session, session.begin():
            workspace_id = make_workspace(session).id
            syncs = [make_sync(session, workspace_id).id for _ in range(2)]

        def insert_runs(count: int) -> None:
            with Session(engine) as session, session.begin():
                for _ in range(count):
                    run = {"workspace_id": workspace_id, **_random_run(rng, rng.choice(syncs))}
                    session.execute(insert(SyncRun), [run])
                session.execute(text("SELECT pg_stat_force_next_flush()"))

        insert_runs(300)
        with Session(engine) as session:
            before = _primary_key_reads(session)
        insert_runs(50)
        with Session(engine) as session:
            assert _primary_key_reads(session) - before < 50
        _assert_rollups_match(lambda: Session(engine), workspace_id)
    finally:
        engine.dispose()
