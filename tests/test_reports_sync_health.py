"""Sync health: windows, run statuses, rounding, failing syncs, ordering and isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from insights.models import Sync
from insights.reports.sync_health import sync_health
from tests.support.databases import Database
from tests.support.factories import (
    make_audience_sync,
    make_destination,
    make_model,
    make_sync,
    make_sync_run,
    make_workspace,
)

NOW = datetime(2024, 1, 15, 12, 0, 0, tzinfo=UTC)  # days=7: the window opens 2024-01-08 12:00:00


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 1) -> datetime:
    year = 2023 if month == 12 else 2024
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _syncs(session: Session, workspace_id: uuid.UUID) -> dict[str, Sync]:
    """A model and a destination shared by syncs, and one sync of every case."""
    model = make_model(session, workspace_id)
    dest = make_destination(session, workspace_id)
    refs = {"model_id": model.id, "destination_id": dest.id}

    def sync(name: str, status: str = "active", **fields: Any) -> Sync:
        return make_sync(session, workspace_id, name=name, status=status, **refs, **fields)

    return {
        "alpha": sync("Alpha"),
        "beta": make_audience_sync(session, workspace_id, name="Beta", destination_id=dest.id),
        "gamma": sync("Gamma", "paused"),
        "delta": make_audience_sync(
            session, workspace_id, name="Delta", status="error", destination_id=dest.id
        ),
        "epsilon": sync("Epsilon"),
        "lower_alpha": sync("alpha"),
        "same_2": sync("Same", id=uuid.UUID("00000000-0000-0000-0000-000000000002")),
        "same_1": sync("Same", id=uuid.UUID("00000000-0000-0000-0000-000000000001")),
        "tie": sync("Tie"),
    }


def _runs(session: Session, workspace_id: uuid.UUID, syncs: dict[str, Sync]) -> None:
    def run(name: str, started_at: datetime, status: str = "completed", **fields: Any) -> None:
        make_sync_run(
            session, workspace_id, syncs[name].id, started_at=started_at, status=status, **fields
        )

    # Alpha: exactly at the window start (in) and one second before it (out).
    run("alpha", at(8, 12), duration=100, rows_created=10, rows_updated=20, rows_deleted=30,
        rows_processed=999, rows_failed=5)  # fmt: skip
    run("alpha", at(8, 11, 59, 59), duration=1000, rows_created=1000)
    run("alpha", at(10), "failed", duration=50, rows_created=7)
    run("alpha", at(12), duration=101, rows_created=1)
    run("alpha", at(13), "cancelled", duration=5, rows_created=50)
    run("alpha", at(14), "queued")
    run("alpha", at(15, 11), "running")
    # Beta: 7 completed and then 1 failed in the window, then a cancelled one.
    for day, seconds in zip(range(9, 16), (10, 10, 10, 10, 10, 10, 12), strict=True):
        run("beta", at(day), duration=seconds, rows_created=100)
    run("beta", at(15, 10), "failed", duration=30)
    run("beta", at(15, 11, 30), "cancelled", duration=60)
    run("delta", at(14), "failed", duration=20, rows_created=3)
    # Epsilon: its only finished run failed a month ago; only a cancelled one since.
    run("epsilon", at(16, month=12), "failed", duration=40)
    run("epsilon", at(14), "cancelled", duration=40)
    run("lower_alpha", at(15, 12), duration=0)  # started exactly at `now`
    # Tie: two runs of the same second; the larger id counts as the later one.
    tie = uuid.UUID("00000000-0000-0000-0000-0000000000f2")
    run("tie", at(14), "failed", duration=10, id=tie)
    run("tie", at(14), duration=10, id=uuid.UUID("00000000-0000-0000-0000-0000000000f1"))


def _other_workspace(session: Session) -> None:
    """A busy, failing workspace whose data must never show in the first one's report."""
    other = make_workspace(session, name="Other")
    sync = make_sync(session, other.id, name="Alpha")
    make_sync(session, other.id, name="Paused elsewhere", status="paused")
    for day in range(9, 15):
        make_sync_run(session, other.id, sync.id, started_at=at(day), duration=7, rows_created=9)
    make_sync_run(session, other.id, sync.id, started_at=at(15), status="failed", duration=1)


def _build(db: Database, workspace_id: uuid.UUID) -> dict[str, uuid.UUID]:
    with db.session() as session, session.begin():
        syncs = _syncs(session, workspace_id)
        _runs(session, workspace_id, syncs)
        _other_workspace(session)
        return {name: sync.id for name, sync in syncs.items()}


SCORE_FIELDS = ("health_statuses", "health_score", "health_status", "health_components")


def _report(db: Database, workspace_id: uuid.UUID, days: int = 7) -> dict[str, Any]:
    """The published fields (contract 5.1), which keep their meaning beside the score's
    (tests/test_reports_health_score.py pins those)."""
    with db.read() as session:
        report = sync_health(session, workspace_id, days=days, now=NOW).model_dump(mode="json")
    report.pop("health_statuses")
    for entry in report["syncs"]:
        for name in SCORE_FIELDS:
            entry.pop(name, None)
    return report


def _entry(report: dict[str, Any], sync_id: uuid.UUID) -> dict[str, Any]:
    return next(entry for entry in report["syncs"] if entry["sync_id"] == str(sync_id))


def test_sync_health_counts_syncs_by_status_and_health(
    db: Database, workspace_id: uuid.UUID
) -> None:
    _build(db, workspace_id)
    report = _report(db, workspace_id)
    # Error syncs count in the total only; Beta, Epsilon and Tie are the failing ones.
    assert {k: v for k, v in report.items() if k != "syncs"} == {
        "total_syncs": 9,
        "active_syncs": 7,
        "healthy_syncs": 4,
        "failing_syncs": 3,
        "paused_syncs": 1,
    }


def test_window_includes_run_at_its_start_and_ignores_unfinished_and_cancelled(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    assert _entry(_report(db, workspace_id), ids["alpha"]) == {
        "sync_id": str(ids["alpha"]),
        "sync_name": "Alpha",
        "status": "active",
        "last_run_status": "running",
        "last_run_at": "2024-01-15T11:00:00Z",
        "success_rate": 0.67,  # 2 of 3
        "total_runs": 3,
        "failed_runs": 1,
        "avg_duration_seconds": 101,  # (100 + 101) / 2 = 100.5, half-up
        "total_rows_synced": 61,  # 10 + 20 + 30, then 1; failed rows do not count
    }


def test_success_rate_rounds_half_up(db: Database, workspace_id: uuid.UUID) -> None:
    ids = _build(db, workspace_id)
    beta = _entry(_report(db, workspace_id), ids["beta"])
    assert beta["success_rate"] == 0.88  # 7 / 8 = 0.875
    assert beta["avg_duration_seconds"] == 10  # 72 / 7 = 10.29
    assert beta["total_rows_synced"] == 700
    assert (beta["last_run_status"], beta["last_run_at"]) == ("cancelled", "2024-01-15T11:30:00Z")


def test_sync_that_never_ran_has_nulls_and_zeros(db: Database, workspace_id: uuid.UUID) -> None:
    ids = _build(db, workspace_id)
    assert _entry(_report(db, workspace_id), ids["gamma"]) == {
        "sync_id": str(ids["gamma"]),
        "sync_name": "Gamma",
        "status": "paused",
        "last_run_status": None,
        "last_run_at": None,
        "success_rate": None,
        "total_runs": 0,
        "failed_runs": 0,
        "avg_duration_seconds": None,
        "total_rows_synced": 0,
    }


def test_only_failed_runs_give_zero_success_and_no_duration(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    delta = _entry(_report(db, workspace_id), ids["delta"])
    assert delta["status"] == "error"
    assert (delta["total_runs"], delta["failed_runs"], delta["success_rate"]) == (1, 1, 0.0)
    assert (delta["avg_duration_seconds"], delta["total_rows_synced"]) == (None, 0)


def test_failing_is_judged_on_latest_finished_run_of_any_age(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    report = _report(db, workspace_id)
    epsilon = _entry(report, ids["epsilon"])
    assert (epsilon["total_runs"], epsilon["success_rate"]) == (0, None)
    assert (epsilon["last_run_status"], epsilon["last_run_at"]) == (
        "cancelled",
        "2024-01-14T00:00:00Z",
    )
    # Widening the window to take in the month-old failure changes the counts, not health.
    wide = _report(db, workspace_id, days=31)
    assert wide["failing_syncs"] == report["failing_syncs"] == 3
    assert _entry(wide, ids["epsilon"])["total_runs"] == 1


def test_runs_started_in_the_same_second_are_ordered_by_id(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    tie = _entry(_report(db, workspace_id), ids["tie"])
    assert tie["last_run_status"] == "failed"
    assert (tie["total_runs"], tie["failed_runs"], tie["success_rate"]) == (2, 1, 0.5)


def test_run_started_exactly_now_is_in_the_window(db: Database, workspace_id: uuid.UUID) -> None:
    ids = _build(db, workspace_id)
    entry = _entry(_report(db, workspace_id), ids["lower_alpha"])
    assert (entry["total_runs"], entry["success_rate"], entry["avg_duration_seconds"]) == (
        1,
        1.0,
        0,
    )
    assert entry["last_run_at"] == "2024-01-15T12:00:00Z"


def test_syncs_are_sorted_by_name_then_id_in_code_point_order(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    order = [entry["sync_id"] for entry in _report(db, workspace_id)["syncs"]]
    expected = ["alpha", "beta", "delta", "epsilon", "gamma", "same_1", "same_2", "tie"]
    # Lowercase "alpha" sorts after every capitalised name, whatever the collation.
    assert order == [str(ids[name]) for name in [*expected, "lower_alpha"]]


def test_one_day_window_counts_only_the_last_24_hours(
    db: Database, workspace_id: uuid.UUID
) -> None:
    ids = _build(db, workspace_id)
    report = _report(db, workspace_id, days=1)  # from 2024-01-14 12:00:00
    beta = _entry(report, ids["beta"])
    assert (beta["total_runs"], beta["failed_runs"], beta["success_rate"]) == (2, 1, 0.5)
    assert _entry(report, ids["alpha"])["total_runs"] == 0
    assert _entry(report, ids["tie"])["total_runs"] == 0


def test_empty_workspace_reports_zeros(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        _other_workspace(session)
    assert _report(db, workspace_id) == {
        "total_syncs": 0,
        "active_syncs": 0,
        "healthy_syncs": 0,
        "failing_syncs": 0,
        "paused_syncs": 0,
        "syncs": [],
    }
