"""The local-day rollups (sync_local_days, kept by triggers from the workspace's zone
pieces, migration 0010) equal what the runs say, in zones with DST and with 30- and
45-minute offsets, through inserts, bulk inserts, updates, deletes, a deleted sync and zone
changes; sync-duration and sync-throughput read through them equal the same reports read
from every run; writers racing a zone change on PostgreSQL leave what a sequential run
would; and the migration backfills what was stored before it, and goes back down."""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from insights.db import bulk_runs, insert_rows, make_engine, migrate
from insights.models import Base, Sync, SyncLocalDay, SyncRun, Workspace
from insights.reports import local_days
from insights.reports.local_days import cut_day
from insights.reports.sync_duration import sync_duration
from insights.reports.sync_throughput import sync_throughput
from insights.zones import zone_pieces
from tests.support import old_schema
from tests.support.databases import Database
from tests.support.factories import make_sync, make_workspace

BASE = datetime(2024, 3, 1, tzinfo=UTC)  # 40 days from here cross the DST changes of 2024
SPAN_DAYS = 40
ZONES = [
    "UTC",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +13:45 / +12:45 (DST ends 7 April)
    "Australia/Lord_Howe",  # a 30-minute DST change (7 April)
    "America/New_York",  # DST starts 10 March
    "Europe/London",  # DST starts 31 March
    "America/Santiago",  # DST ends at local midnight (7 April): the clock goes back a day
]
BIG = 2**63 - 1
DayKey = tuple[uuid.UUID, int]


def _moments(zone: str) -> list[datetime]:
    """Instants worth landing on: the zone's local midnights and changes over the span."""
    tz = ZoneInfo(zone)
    midnights = [
        datetime.combine((BASE + timedelta(days=n)).date(), datetime.min.time(), tzinfo=tz)
        for n in range(-1, SPAN_DAYS + 1)
    ]
    low, high = BASE.timestamp(), (BASE + timedelta(days=SPAN_DAYS)).timestamp()
    changes = [datetime.fromtimestamp(b, UTC) for b, _ in zone_pieces(zone) if low <= b <= high]
    return [moment.astimezone(UTC) for moment in midnights] + changes


def _random_run(rng: random.Random, sync_id: uuid.UUID, zone: str) -> dict[str, Any]:
    """A run's columns: started in the span, often a second either side of a local midnight
    or a DST change; finished ones last 0 s to a day."""
    if rng.random() < 0.6:
        moment = rng.choice(_moments(zone)) + timedelta(seconds=rng.choice([-3601, -1, 0, 1, 59]))
    else:
        moment = BASE + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
    started = moment.replace(microsecond=0)
    status = rng.choice(["completed"] * 6 + ["failed", "running", "queued", "cancelled"])
    finished = status in ("completed", "failed", "cancelled")
    seconds = rng.choice([0, 0, 1, 59, 3600, 86400, rng.randrange(7200)])
    return {
        "id": uuid.uuid4(),
        "sync_id": sync_id,
        "status": status,
        "started_at": started,
        "completed_at": started + timedelta(seconds=seconds) if finished else None,
        "rows_created": rng.choice([0, 7, 2**40, BIG // 3]),
        "rows_updated": rng.choice([0, 3, 2**33 + 5]),
        "rows_deleted": rng.choice([0, 1, 2**31]),
    }


def _expected_days(runs: list[SyncRun], zone: str) -> dict[DayKey, tuple[Any, ...]]:
    """Per (sync, local day) of the completed runs, summed in Python with zoneinfo."""
    tz = ZoneInfo(zone)
    days: dict[DayKey, list[tuple[int, int]]] = defaultdict(list)
    for run in runs:
        if run.status != "completed" or run.completed_at is None:
            continue
        local = run.started_at.astimezone(tz)
        day = (local.date() - datetime(1970, 1, 1).date()).days
        seconds = int((run.completed_at - run.started_at).total_seconds())
        days[(run.sync_id, day)].append(
            (seconds, run.rows_created + run.rows_updated + run.rows_deleted)
        )
    return {
        key: (
            len(found),
            sum(s for s, _ in found),
            max(s for s, _ in found),
            sorted(s for s, _ in found),
            sum(1 for s, _ in found if s > 0),
            sum(rows for s, rows in found if s > 0),
        )
        for key, found in days.items()
    }


def _stored_days(session: Session, workspace_id: uuid.UUID) -> dict[DayKey, tuple[Any, ...]]:
    rows = session.scalars(select(SyncLocalDay).where(SyncLocalDay.workspace_id == workspace_id))
    return {
        (row.sync_id, row.day): (
            row.runs,
            row.duration_sum,
            row.duration_max,
            sorted(int(value) for value in row.durations.split(",")),
            row.timed_runs,
            (row.timed_rows_high << 32) + row.timed_rows_low,
        )
        for row in rows
    }


def _assert_days_match(sessions: Callable[[], Session], workspace_id: uuid.UUID) -> None:
    with sessions() as session:
        zone = session.scalar(select(Workspace.timezone).where(Workspace.id == workspace_id))
        assert zone is not None
        runs = list(session.scalars(select(SyncRun).where(SyncRun.workspace_id == workspace_id)))
        assert _stored_days(session, workspace_id) == _expected_days(runs, zone)


_kept_zone = local_days._zones


def _not_kept(session: Session, workspace_id: uuid.UUID) -> tuple[ZoneInfo, bool]:
    """The zone, said not to be the rollups': the reports read every run of the window."""
    return _kept_zone(session, workspace_id)[0], False


def _reports(session: Session, workspace_id: uuid.UUID, now: datetime, days: int) -> Any:
    duration = sync_duration(session, workspace_id, days=days, sync_ids=None, now=now)
    throughput = sync_throughput(session, workspace_id, days=days, sync_ids=None, now=now)
    return duration.model_dump(), throughput.model_dump()


def _assert_reports_match_the_runs(
    db: Database, workspace_id: uuid.UUID, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows starting anywhere in the span, often on a local midnight or a DST change
    (`now` after every run: the reading from every run dates a run after `now` by the
    offset at `now`), through the rollups and from every run."""
    with db.session() as session:
        zone = session.scalar(select(Workspace.timezone).where(Workspace.id == workspace_id))
    assert zone is not None
    for _ in range(6):
        start = (
            rng.choice(_moments(zone)) + timedelta(seconds=rng.choice([-1, 0, 1, 1800]))
            if rng.random() < 0.7
            else BASE + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
        )
        days = rng.choice([45, 60, 90])
        now = start + timedelta(days=days)
        with db.session() as session:
            kept = _reports(session, workspace_id, now, days)
        with monkeypatch.context() as patch, db.session() as session:
            # The cut day grouped run by run, as when it spans local dates (a clock set
            # back across midnight, which no zone of ZONES does).
            patch.setattr(local_days, "_on_one_day", lambda *_: False)
            by_run = _reports(session, workspace_id, now, days)
        with monkeypatch.context() as patch, db.session() as session:
            patch.setattr(local_days, "_zones", _not_kept)
            raw = _reports(session, workspace_id, now, days)
        assert kept == raw, (zone, start, days)
        assert by_run == raw, (zone, start, days)


def _syncs(db: Database, workspace_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    with db.session() as session, session.begin():
        return [make_sync(session, workspace_id, name=f"Sync {n}").id for n in range(count)]


def _zone_of(db: Database, workspace_id: uuid.UUID) -> str:
    with db.session() as session:
        zone = session.scalar(select(Workspace.timezone).where(Workspace.id == workspace_id))
    assert zone is not None
    return zone


def _write_round(
    db: Database, workspace_id: uuid.UUID, syncs: list[uuid.UUID], rng: random.Random
) -> None:
    """Inserts (ORM, one multi-row INSERT, db.insert_rows), then updates and deletes."""
    zone = _zone_of(db, workspace_id)
    with db.session() as session, session.begin():
        for _ in range(rng.randrange(10, 30)):
            session.add(
                SyncRun(workspace_id=workspace_id, **_random_run(rng, rng.choice(syncs), zone))
            )
        bulk = [
            {"workspace_id": workspace_id, **_random_run(rng, rng.choice(syncs), zone)}
            for _ in range(rng.randrange(5, 20))
        ]
        session.execute(insert(SyncRun), bulk)
        insert_rows(
            session,
            SyncRun.__table__,
            [
                {"workspace_id": workspace_id, **_random_run(rng, rng.choice(syncs), zone)}
                for _ in range(rng.randrange(5, 20))
            ],
        )
    with db.session() as session, session.begin():
        runs = list(session.scalars(select(SyncRun).where(SyncRun.workspace_id == workspace_id)))
        for run in rng.sample(runs, k=min(len(runs), 25)):
            action = rng.choice(["finish", "move", "rows", "fail", "sync", "delete"])
            if action == "finish" and run.status in ("queued", "running"):
                run.status = "completed"
                run.completed_at = run.started_at + timedelta(seconds=rng.randrange(5000))
            elif action == "move":
                shift = timedelta(seconds=rng.choice([-86400, -3600, -1, 1, 1800, 86400 * 3]))
                run.started_at += shift
                if run.completed_at is not None:
                    run.completed_at += shift
            elif action == "rows":
                run.rows_updated = rng.choice([0, 11, 2**40])
            elif action == "fail" and run.status == "completed":
                run.status = "failed"
            elif action == "sync":
                run.sync_id = rng.choice(syncs)
            elif action == "delete":
                session.delete(run)


def test_local_days_and_reports_equal_the_runs_through_random_writes_and_zone_changes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(13_10)
    zones = rng.sample(ZONES, k=len(ZONES))
    with db.session() as session, session.begin():
        workspace_id = make_workspace(session, timezone=zones[0]).id
    syncs = _syncs(db, workspace_id, 4)
    for round_number, zone in enumerate(zones):
        if round_number:
            with db.session() as session, session.begin():
                workspace = session.get(Workspace, workspace_id)
                assert workspace is not None
                workspace.timezone = zone  # as PATCH /workspaces/{id} does
            _assert_days_match(db.session, workspace_id)
        _write_round(db, workspace_id, syncs, rng)
        if round_number == 4:  # a whole sync goes, with its runs and days
            with db.session() as session, session.begin():
                session.execute(delete(Sync).where(Sync.id == syncs.pop()))
        _assert_days_match(db.session, workspace_id)
        _assert_reports_match_the_runs(db, workspace_id, rng, monkeypatch)


def test_the_window_cut_day_is_where_the_local_dates_change() -> None:
    """cut_day: every second before the start is on a day up to `last`, every second from
    `whole_from` on after it, and `whole_from` is the first such (checked second by second
    around midnights and DST changes, Santiago's clock going back across midnight too)."""
    for zone in ZONES:
        tz = ZoneInfo(zone)
        for moment in _moments(zone)[::3]:
            for shift in (-3600, -1, 0, 1, 1800):
                start = moment + timedelta(seconds=shift)
                last, whole_from = cut_day(tz, start)

                def day(second: int, tz: ZoneInfo = tz) -> int:
                    local = datetime.fromtimestamp(second, UTC).astimezone(tz)
                    return (local.date() - datetime(1970, 1, 1).date()).days

                first = int(start.timestamp())
                before = range(first - 2 * 86400, first, 600)
                assert max(day(s) for s in [*before, first - 1]) == last
                cut = int(whole_from.timestamp())
                assert all(day(s) > last for s in range(cut, cut + 2 * 86400, 600))
                assert cut == first or day(cut - 1) <= last


def test_a_zone_change_on_another_workspace_leaves_this_one(db: Database) -> None:
    with db.session() as session, session.begin():
        here = make_workspace(session, timezone="Asia/Kathmandu").id
        there = make_workspace(session, timezone="UTC").id
    rng = random.Random(13_11)
    for workspace_id in (here, there):
        syncs = _syncs(db, workspace_id, 2)
        _write_round(db, workspace_id, syncs, rng)
    with db.session() as session, session.begin():
        session.execute(
            update(Workspace).where(Workspace.id == there).values(timezone="America/Santiago")
        )
    # Changed behind the ORM: the reports see the zone is not the kept one and read runs.
    with db.session() as session:
        report = sync_duration(
            session, there, days=60, sync_ids=None, now=BASE + timedelta(days=60)
        )
    assert report.syncs
    _assert_days_match(db.session, here)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_writers_racing_a_zone_change_leave_what_a_sequential_run_would(db: Database) -> None:
    """Three threads write runs of the same two syncs in small transactions while a fourth
    changes the workspace's zone back and forth: the zone change waits for the run writes
    in flight (their triggers read its zone row FOR SHARE) and the later ones wait for it,
    so the days end as the runs and the last zone say, with no error and no deadlock."""
    with db.session() as session, session.begin():
        workspace_id = make_workspace(session, timezone="Asia/Kolkata").id
    syncs = _syncs(db, workspace_id, 2)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            barrier.wait()
            for _ in range(25):
                with db.session() as session, session.begin():
                    fields = _random_run(rng, rng.choice(syncs), "Asia/Kolkata")
                    run = SyncRun(workspace_id=workspace_id, **fields)
                    session.add(run)
                    session.flush()
                    if run.status == "running" and rng.random() < 0.5:
                        run.status = "completed"
                        run.completed_at = run.started_at + timedelta(seconds=9)
                    elif rng.random() < 0.1:
                        session.delete(run)
        except BaseException as error:
            errors.append(error)

    def zone_changer() -> None:
        try:
            barrier.wait()
            for zone in ["America/New_York", "Asia/Kathmandu", "Europe/London"] * 3:
                with db.session() as session, session.begin():
                    workspace = session.get(Workspace, workspace_id)
                    assert workspace is not None
                    workspace.timezone = zone
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(13_12 + n,)) for n in range(3)]
    threads.append(threading.Thread(target=zone_changer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_days_match(db.session, workspace_id)


def test_a_bulk_load_leaves_the_local_days_of_its_runs(db: Database) -> None:
    with db.session() as session, session.begin():
        workspace_id = make_workspace(session, timezone="Pacific/Chatham").id
    syncs = _syncs(db, workspace_id, 3)
    rng = random.Random(13_13)
    with db.session() as session, session.begin(), bulk_runs(session, workspace_id):
        rows = [
            {"workspace_id": workspace_id, **_random_run(rng, rng.choice(syncs), "Pacific/Chatham")}
            for _ in range(300)
        ]
        insert_rows(session, SyncRun.__table__, rows)
    _assert_days_match(db.session, workspace_id)


def _stored_run(workspace_id: uuid.UUID, run: dict[str, Any]) -> dict[str, Any]:
    """A run row as revision 0009 stores it (the table, not the model)."""
    when = {"created_at": BASE, "updated_at": BASE}
    counts = {"rows_processed": 0, "rows_failed": 0}
    return {"workspace_id": workspace_id, "trigger": "schedule", **when, **counts, **run}


def test_the_migration_backfills_the_runs_stored_before_it_and_goes_down(
    empty_database: str,
) -> None:
    migrate(empty_database, "0009")
    engine = make_engine(empty_database)
    tables = Base.metadata.tables
    rng = random.Random(13_14)
    try:
        workspaces = {}
        with Session(engine) as session, session.begin():
            for zone in ("Asia/Kathmandu", "America/Santiago", "UTC"):
                workspace_id = uuid.uuid4()
                session.execute(
                    insert(old_schema.WORKSPACES).values(
                        id=workspace_id,
                        name="W",
                        timezone=zone,
                        next_member_id=0,
                        created_at=old_schema.WHEN,
                        updated_at=old_schema.WHEN,
                    )
                )
                syncs = [old_schema.sync(session, workspace_id) for _ in range(3)]
                runs = [_random_run(rng, rng.choice(syncs), zone) for _ in range(150)]
                session.execute(
                    insert(tables["sync_runs"]), [_stored_run(workspace_id, r) for r in runs]
                )
                workspaces[workspace_id] = syncs
        migrate(empty_database)
        for workspace_id in workspaces:
            _assert_days_match(lambda: Session(engine), workspace_id)
        workspace_id, syncs = next(iter(workspaces.items()))
        with Session(engine) as session, session.begin():  # the triggers are on
            session.add(
                SyncRun(workspace_id=workspace_id, **_random_run(rng, syncs[0], "Asia/Kathmandu"))
            )
            session.execute(delete(SyncRun).where(SyncRun.sync_id == syncs[1]))
        _assert_days_match(lambda: Session(engine), workspace_id)
        migrate(empty_database, "0009", down=True)
        with Session(engine) as session, session.begin():  # no trigger left behind
            session.add(
                SyncRun(workspace_id=workspace_id, **_random_run(rng, syncs[0], "Asia/Kathmandu"))
            )
        migrate(empty_database)
        _assert_days_match(lambda: Session(engine), workspace_id)
    finally:
        engine.dispose()
