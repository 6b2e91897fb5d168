"""Workspace summary: counts by status, today's rows in the local day, members, isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from insights.models import Sync, Workspace
from insights.reports.summary import summary
from tests.support.databases import Database
from tests.support.factories import (
    make_audience,
    make_audience_sync,
    make_destination,
    make_evaluation,
    make_loader,
    make_loader_run,
    make_members,
    make_model,
    make_source,
    make_sync,
    make_sync_run,
    make_workspace,
)

# 21:00 on 15 January in Tokyo (UTC+9): "today" is 2024-01-14 15:00 to 2024-01-15 15:00 UTC.
NOW = datetime(2024, 1, 15, 12, 0, 0, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 1, day, hour, minute, second, tzinfo=UTC)


def _catalogue(session: Session, workspace_id: uuid.UUID) -> dict[str, Sync]:
    """Sources, models, destinations and syncs with known statuses; returns the syncs."""
    source = make_source(session, workspace_id, status="connected")
    make_source(session, workspace_id, status="connected")
    make_source(session, workspace_id, status="error")
    model = make_model(session, workspace_id, source_id=source.id, status="active")
    make_model(session, workspace_id, source_id=source.id, status="active")
    make_model(session, workspace_id, source_id=source.id, status="inactive")
    dest = make_destination(session, workspace_id, status="connected")
    make_destination(session, workspace_id, status="connected")
    make_destination(session, workspace_id, status="error")
    refs = {"model_id": model.id, "destination_id": dest.id}
    audience = make_audience(session, workspace_id, name="Synced", status="inactive")
    return {
        "model": make_sync(session, workspace_id, status="active", **refs),
        "paused": make_sync(session, workspace_id, status="paused", **refs),
        "audience": make_audience_sync(
            session, workspace_id, audience_id=audience.id, destination_id=dest.id
        ),
        "error": make_audience_sync(
            session, workspace_id, audience_id=audience.id, destination_id=dest.id, status="error"
        ),
    }


def _sync_runs(session: Session, workspace_id: uuid.UUID, syncs: dict[str, Sync]) -> None:
    def run(
        sync: str, completed_at: datetime | None, status: str = "completed", **rows: int
    ) -> None:
        started_at = at(14) if completed_at is None else min(completed_at, at(14))
        make_sync_run(
            session, workspace_id, syncs[sync].id, started_at=started_at, status=status,
            completed_at=completed_at, **rows,
        )  # fmt: skip

    run("model", at(14, 15), rows_created=1, rows_updated=2, rows_deleted=3, rows_processed=90)
    run("model", at(14, 14, 59, 59), rows_created=1000)  # yesterday in Tokyo
    run("audience", at(15, 11, 59, 59), rows_created=10)  # started yesterday, done today
    run("paused", at(15, 14, 59, 59), rows_updated=200)  # the last second of today
    run("paused", at(15, 15), rows_created=4000)  # tomorrow in Tokyo
    run("error", at(15, 1), "failed", rows_created=500)
    run("error", at(15, 2), "cancelled", rows_created=600)
    run("model", None, "running", rows_created=700)


def _loaders(session: Session, workspace_id: uuid.UUID) -> None:
    loader = make_loader(session, workspace_id, status="active")
    make_loader(session, workspace_id, status="paused")
    make_loader(session, workspace_id, status="error")

    def run(completed_at: datetime, status: str = "completed", rows: int = 0) -> None:
        make_loader_run(
            session, workspace_id, loader.id, started_at=at(14), completed_at=completed_at,
            status=status, rows_loaded=rows,
        )  # fmt: skip

    run(at(14, 15), rows=300)
    run(at(15, 3), rows=45)
    run(at(14, 14, 59, 59), rows=1000)
    run(at(15, 4), "failed", rows=50)


def _audiences(session: Session, workspace_id: uuid.UUID) -> None:
    def audience(name: str, status: str = "active") -> uuid.UUID:
        return make_audience(session, workspace_id, name=name, status=status).id

    def members(audience_id: uuid.UUID, keys: list[str], day: int = 10) -> None:
        make_members(session, workspace_id, audience_id, keys, evaluated_at=at(day))

    members(audience("A"), ["k1", "k2", "k3"])
    members(audience("B"), ["k2", "k3", "k4", "K4"])  # keys are case-sensitive
    members(audience("Inactive", "inactive"), ["k5", "k6", "k7", "k8", "k9"])
    members(audience("Errored", "error"), ["k11"])
    sized = audience("Sized")  # no member list: its latest size counts
    make_evaluation(session, workspace_id, sized, evaluated_at=at(12), size=40)
    make_evaluation(session, workspace_id, sized, evaluated_at=at(9), size=70)
    audience("Never evaluated")  # adds nothing
    # Current members are the latest evaluation with members, even after a size-only one.
    later = audience("Later size")
    members(later, ["k1", "k10"], day=8)
    make_evaluation(session, workspace_id, later, evaluated_at=at(13), size=500)


def _other_workspace(session: Session) -> None:
    other = make_workspace(session, name="Other", timezone="Asia/Tokyo")
    sync = make_sync(session, other.id)
    make_sync_run(session, other.id, sync.id, started_at=at(15), rows_created=123)
    loader = make_loader(session, other.id)
    make_loader_run(session, other.id, loader.id, started_at=at(15), rows_loaded=456)
    audience = make_audience(session, other.id)
    make_members(session, other.id, audience.id, ["k1", "x1", "x2"], evaluated_at=at(10))


def _build(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        zone = update(Workspace).where(Workspace.id == workspace_id).values(timezone="Asia/Tokyo")
        session.execute(zone)
        _sync_runs(session, workspace_id, _catalogue(session, workspace_id))
        _loaders(session, workspace_id)
        _audiences(session, workspace_id)
        _other_workspace(session)


def _report(db: Database, workspace_id: uuid.UUID, now: datetime = NOW) -> dict[str, Any]:
    with db.read() as session:
        return summary(session, workspace_id, now=now).model_dump(mode="json")


def test_summary_counts_every_kind_by_status(db: Database, workspace_id: uuid.UUID) -> None:
    _build(db, workspace_id)
    report = _report(db, workspace_id)
    assert report["sources"] == {"total": 3, "connected": 2, "error": 1}
    assert report["models"] == {"total": 3, "active": 2}
    assert report["destinations"] == {"total": 3, "connected": 2, "error": 1}
    assert report["loaders"]["total"] == 3
    assert report["loaders"]["active"] == 1
    assert {k: v for k, v in report["syncs"].items() if k != "rows_synced_today"} == {
        "total": 4,
        "active": 2,  # a model sync and an audience-sync
        "paused": 1,
        "error": 1,
    }
    assert (report["audiences"]["total"], report["audiences"]["active"]) == (8, 5)


def test_rows_today_are_completed_runs_finished_in_the_local_day(
    db: Database, workspace_id: uuid.UUID
) -> None:
    _build(db, workspace_id)
    report = _report(db, workspace_id)
    assert report["syncs"]["rows_synced_today"] == 216  # 1 + 2 + 3, 10, 200
    assert report["loaders"]["rows_loaded_today"] == 345  # 300 + 45


def test_today_moves_with_the_workspace_day(db: Database, workspace_id: uuid.UUID) -> None:
    _build(db, workspace_id)
    # 00:30 on 16 January in Tokyo: only the run finished at 15:00 UTC on the 15th is today.
    report = _report(db, workspace_id, now=at(15, 15, 30))
    assert report["syncs"]["rows_synced_today"] == 4000
    assert report["loaders"]["rows_loaded_today"] == 0


def test_total_members_unions_active_member_lists_and_adds_sizes_without_lists(
    db: Database, workspace_id: uuid.UUID
) -> None:
    _build(db, workspace_id)
    # {k1, k2, k3} | {k2, k3, k4, K4} | {k1, k10} = 6 distinct keys, plus Sized's latest 40.
    assert _report(db, workspace_id)["audiences"]["total_members"] == 46


def test_empty_workspace_summary_is_all_zeros(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        _other_workspace(session)
    zero = {"total": 0}
    assert _report(db, workspace_id) == {
        "sources": zero | {"connected": 0, "error": 0},
        "models": zero | {"active": 0},
        "destinations": zero | {"connected": 0, "error": 0},
        "syncs": zero | {"active": 0, "paused": 0, "error": 0, "rows_synced_today": 0},
        "audiences": zero | {"active": 0, "total_members": 0},
        "loaders": zero | {"active": 0, "rows_loaded_today": 0},
    }
