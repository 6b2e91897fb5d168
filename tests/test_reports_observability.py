"""sync-duration, sync-throughput, sync-sla and audience-velocity (contract 8.2 to 8.5)
against an independent reading of the contract, on random histories that cross a
daylight-saving change, on both databases; and each one's rules at their edges."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from insights.errors import NotFound
from insights.reports.audience_velocity import audience_velocity
from insights.reports.sync_duration import nearest_rank, sync_duration
from insights.reports.sync_sla import sync_sla
from insights.reports.sync_throughput import sync_throughput
from tests.support import oracle
from tests.support.databases import Database
from tests.support.factories import (
    make_audience,
    make_evaluation,
    make_sync,
    make_sync_run,
    make_workspace,
)
from tests.support.oracle import Evaluation, Run, utc

# Four days after New York's spring change (2024-03-10): a 7-day window crosses it.
NOW = utc(2024, 3, 14, 15, 30, 0)
ZONE = "America/New_York"


def _runs(rng: random.Random, count: int, first_order: int) -> list[Run]:
    runs: list[Run] = []
    for index in range(count):
        started = NOW - timedelta(seconds=rng.randrange(-2 * 3600, 9 * 86400))
        if runs and rng.random() < 0.08:
            started = runs[-1].started_at  # a tie, broken by the larger id
        status = rng.choice(["completed"] * 7 + ["failed", "cancelled", "queued"])
        seconds = rng.choice([0, 0, 1, 30, 45, 60, 600, 3599, 7200])
        completed = None if status == "queued" else started + timedelta(seconds=seconds)
        rows = rng.choice([0, 1, 10, 999, 12_345, 2**40])
        runs.append(Run(started, status, completed, rows=rows, order=first_order + index))
    return runs


def _store(session: Session, workspace_id: uuid.UUID, sync_id: uuid.UUID, runs: list[Run]) -> None:
    for run in runs:
        make_sync_run(
            session,
            workspace_id,
            sync_id,
            id=uuid.UUID(int=run.order),
            started_at=run.started_at,
            status=run.status,
            completed_at=run.completed_at,
            rows_created=run.rows,
        )


@pytest.fixture
def history(db: Database) -> tuple[uuid.UUID, dict[uuid.UUID, list[Run]]]:
    """A New York workspace with 12 syncs of random runs (one with none)."""
    rng = random.Random(8_2)
    found: dict[uuid.UUID, list[Run]] = {}
    with db.session() as session, session.begin():
        workspace = make_workspace(session, timezone=ZONE)
        for number in range(12):
            sync = make_sync(session, workspace.id, name=f"S{number:02d}")
            runs = [] if number == 5 else _runs(rng, rng.choice([1, 2, 8, 30, 80]), number * 1000)
            _store(session, workspace.id, sync.id, runs)
            found[sync.id] = runs
    return workspace.id, found


def _without_ids(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("sync_id", "sync_name")}


@pytest.mark.parametrize("days", [1, 7, 30])
def test_sync_duration_matches_the_contract(
    db: Database, history: tuple[uuid.UUID, dict[uuid.UUID, list[Run]]], days: int
) -> None:
    workspace_id, runs = history
    with db.read() as session:
        report = sync_duration(session, workspace_id, days=days, sync_ids=None, now=NOW)
    assert [entry.sync_name for entry in report.syncs] == [f"S{n:02d}" for n in range(12)]
    for entry in report.syncs:
        expected = oracle.duration_entry(runs[entry.sync_id], NOW, days, ZoneInfo(ZONE))
        assert _without_ids(entry.model_dump(mode="json")) == expected, entry.sync_name


@pytest.mark.parametrize("days", [1, 7, 30])
def test_sync_throughput_matches_the_contract(
    db: Database, history: tuple[uuid.UUID, dict[uuid.UUID, list[Run]]], days: int
) -> None:
    workspace_id, runs = history
    with db.read() as session:
        report = sync_throughput(session, workspace_id, days=days, sync_ids=None, now=NOW)
    for entry in report.syncs:
        expected = oracle.throughput_entry(runs[entry.sync_id], NOW, days, ZoneInfo(ZONE))
        assert _without_ids(entry.model_dump(mode="json")) == expected, entry.sync_name


def test_given_sync_ids_keep_their_order_and_a_repeat_appears_once(
    db: Database, history: tuple[uuid.UUID, dict[uuid.UUID, list[Run]]]
) -> None:
    workspace_id, runs = history
    ids = list(runs)
    asked = [ids[3], ids[0], ids[3], ids[7]]
    with db.read() as session:
        duration = sync_duration(session, workspace_id, days=7, sync_ids=asked, now=NOW)
        throughput = sync_throughput(session, workspace_id, days=7, sync_ids=asked, now=NOW)
    for report in (duration, throughput):
        assert [entry.sync_id for entry in report.syncs] == [ids[3], ids[0], ids[7]]


def test_a_sync_of_another_workspace_is_404_naming_it(
    db: Database, history: tuple[uuid.UUID, dict[uuid.UUID, list[Run]]]
) -> None:
    workspace_id, _ = history
    with db.session() as session, session.begin():
        stranger = make_sync(session, make_workspace(session).id)
    with db.read() as session, pytest.raises(NotFound, match=str(stranger.id)):
        sync_duration(session, workspace_id, days=7, sync_ids=[stranger.id], now=NOW)


def test_percentiles_are_the_nearest_rank() -> None:
    import numpy as np

    values = np.array([15, 20, 35, 40, 50], dtype=np.int64)
    # The classic example: p30 -> position 2 (20), p40 -> 2 (20), p50 -> 3 (35), p100 -> 50.
    assert [nearest_rank(values, p) for p in (5, 30, 40, 50, 95, 100)] == [15, 20, 20, 35, 50, 50]
    assert nearest_rank(np.array([7], dtype=np.int64), 95) == 7


def _sla_history(session: Session, workspace_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """Syncs of known completions over a 1-day window ending at NOW."""
    hour = timedelta(hours=1)
    ids: dict[str, uuid.UUID] = {}

    def sync(name: str, runs: list[tuple[datetime, int, str]], **targets: Any) -> None:
        made = make_sync(session, workspace_id, name=name, **targets)
        for number, (started, seconds, status) in enumerate(runs):
            make_sync_run(
                session,
                workspace_id,
                made.id,
                started_at=started,
                status=status,
                duration=seconds,
                id=uuid.UUID(int=len(ids) * 100 + number + 1),
            )
        ids[name] = made.id

    day_ago = NOW - timedelta(days=1)
    # Fresh all day: a completion every 2 hours against a 3-hour target.
    sync(
        "A fresh",
        [(day_ago - 3 * hour + n * 2 * hour, 60, "completed") for n in range(15)],
        sla_freshness_minutes=180,
    )
    # Two stale stretches: completions stop for 5 hours mid-window, and again before now.
    sync(
        "B gaps",
        [(day_ago + n * hour, 0, "completed") for n in (0, 1, 2, 8, 9, 10, 11, 12, 13)],
        sla_freshness_minutes=60,
        sla_duration_seconds=30,
    )
    # Never completed: stale all along, and no stale_since to give.
    sync("C never", [(day_ago + hour, 10, "failed")], sla_freshness_minutes=30)
    # Only a duration target: the latest completed run took too long.
    sync(
        "D slow",
        [(NOW - 5 * hour, 50, "completed"), (NOW - 2 * hour, 700, "completed")],
        sla_duration_seconds=600,
    )
    sync("E paused", [], sla_freshness_minutes=60, status="paused")
    sync("F no target", [(NOW - hour, 10, "completed")])
    return ids


def test_sync_sla_matches_a_second_by_second_reading(db: Database) -> None:
    with db.session() as session, session.begin():
        workspace = make_workspace(session, timezone="UTC")
        ids = _sla_history(session, workspace.id)
    with db.read() as session:
        report = sync_sla(session, workspace.id, days=1, now=NOW)
        runs = _stored(session, workspace.id)
    by_name = {entry.sync_name: entry for entry in report.syncs}
    assert list(by_name) == ["A fresh", "B gaps", "C never", "D slow"]  # not paused, a target
    for name, entry in by_name.items():
        if entry.sla_freshness_minutes is None:
            assert (entry.freshness_compliance_percent, entry.freshness_breaches) == (None, None)
            continue
        percent, breaches, since, stale_now = oracle.freshness_by_second(
            runs[ids[name]], NOW, 1, entry.sla_freshness_minutes
        )
        assert (entry.freshness_compliance_percent, entry.freshness_breaches) == (percent, breaches)
        assert entry.stale_since == since, name
        assert not stale_now or entry.state == "breached", name
    b, d = by_name["B gaps"], by_name["D slow"]
    assert (b.duration_runs, b.duration_breaches, b.duration_compliance_percent) == (9, 0, 100.0)
    assert (d.duration_runs, d.duration_breaches, d.duration_compliance_percent) == (2, 1, 50.0)
    assert d.state == "breached" and by_name["A fresh"].state == "met"
    assert by_name["C never"].state == "breached" and by_name["C never"].stale_since is None
    assert (report.syncs_with_sla, report.syncs_met, report.syncs_breached) == (4, 1, 3)


def _stored(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, list[Run]]:
    from sqlalchemy import select

    from insights.models import SyncRun

    found: dict[uuid.UUID, list[Run]] = {}
    for run in session.scalars(select(SyncRun).where(SyncRun.workspace_id == workspace_id)):
        found.setdefault(run.sync_id, []).append(Run(run.started_at, run.status, run.completed_at))
    return found


def test_freshness_at_its_edges(db: Database) -> None:
    """A completion exactly `target` before the window keeps its start fresh; one exactly
    `target` before now keeps now fresh; a second later it is stale, and stale_since is
    that completion plus the target."""
    target = timedelta(minutes=60)
    start = NOW - timedelta(days=1)
    with db.session() as session, session.begin():
        workspace = make_workspace(session, timezone="UTC")
        edge = make_sync(session, workspace.id, name="edge", sla_freshness_minutes=60)
        for completed in (start - target, NOW - target):
            make_sync_run(session, workspace.id, edge.id, started_at=completed, duration=0)
    with db.read() as session:
        at_now = sync_sla(session, workspace.id, days=1, now=NOW).syncs[0]
        later = sync_sla(session, workspace.id, days=1, now=NOW + timedelta(seconds=1)).syncs[0]
    # Fresh for [start, start] (an instant) and [now - 1h, now]: one stale stretch between.
    assert (at_now.state, at_now.freshness_breaches, at_now.stale_since) == ("met", 1, None)
    assert at_now.freshness_compliance_percent == oracle.half_up(Fraction(3600, 86400) * 100, 1)
    assert later.state == "breached" and later.stale_since == NOW


def test_audience_velocity_matches_the_contract(db: Database) -> None:
    rng = random.Random(8_5)
    zone = ZoneInfo(ZONE)
    with db.session() as session, session.begin():
        workspace = make_workspace(session, timezone=ZONE)
        expected = {}
        for number in range(5):
            audience = make_audience(session, workspace.id, name=f"A{number}")
            evaluations = []
            for _ in range(rng.choice([0, 1, 6, 20])):
                moment = NOW - timedelta(seconds=rng.randrange(-3600, 9 * 86400))
                known = rng.random() < 0.8
                added = rng.randrange(0, 500) if known else None
                removed = rng.randrange(0, 500) if known else None
                make_evaluation(
                    session,
                    workspace.id,
                    audience.id,
                    evaluated_at=moment,
                    size=rng.randrange(1000),
                    members_added=added,
                    members_removed=removed,
                )
                evaluations.append(Evaluation(moment.replace(microsecond=0), added, removed))
            expected[audience.id] = evaluations
    for days in (1, 7):
        with db.read() as session:
            report = audience_velocity(session, workspace.id, days=days, audience_ids=None, now=NOW)
        for entry in report.audiences:
            dumped = entry.model_dump(mode="json")
            del dumped["audience_id"], dumped["audience_name"]
            assert dumped == oracle.velocity_entry(expected[entry.audience_id], NOW, days, zone)
