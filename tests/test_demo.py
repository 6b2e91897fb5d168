"""The demo workspace: deterministic for a seed, reused rather than rebuilt, and plausible."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from insights import members, workspaces
from insights.demo import DEMO_NAME, ensure_demo
from insights.demo.builder import build_demo
from insights.models import ApiKey, Audience, AudienceEvaluation, Sync, SyncRun
from insights.reports.audience_velocity import audience_velocity
from insights.reports.sync_health import sync_health
from insights.reports.sync_sla import sync_sla
from insights.reports.sync_throughput import sync_throughput
from tests.support.databases import Database

NOW = datetime(2024, 6, 15, 14, 30, 5, tzinfo=UTC)
SCALE = 0.1


def _fingerprint(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    """Everything two builds of the same seed must agree on."""
    syncs = session.execute(
        select(Sync.id, Sync.name, Sync.status, Sync.schedule)
        .where(Sync.workspace_id == workspace_id)
        .order_by(Sync.id)
    ).all()
    runs = session.execute(
        select(
            SyncRun.status,
            func.count(),
            func.sum(SyncRun.rows_processed),
            func.min(SyncRun.started_at),
            func.max(SyncRun.started_at),
        )
        .where(SyncRun.workspace_id == workspace_id)
        .group_by(SyncRun.status)
        .order_by(SyncRun.status)
    ).all()
    sizes = session.execute(
        select(Audience.name, func.count(), func.sum(AudienceEvaluation.size))
        .join(
            AudienceEvaluation,
            (AudienceEvaluation.workspace_id == Audience.workspace_id)
            & (AudienceEvaluation.audience_id == Audience.id),
        )
        .where(Audience.workspace_id == workspace_id)
        .group_by(Audience.name)
        .order_by(Audience.name)
    ).all()
    bitmaps = members.current_bitmaps(session, workspace_id, None)
    return {
        "syncs": [tuple(row) for row in syncs],
        "runs": [(s, int(n), int(rows), a, b) for s, n, rows, a, b in runs],
        "sizes": [tuple(row) for row in sizes],
        "members": sorted(len(bitmap) for _, bitmap in bitmaps.values()),
    }


def _build(db: Database, seed: int) -> dict[str, Any]:
    with db.session() as session, session.begin():
        workspace = workspaces.create_workspace(session, f"seed {seed}", "America/New_York")
        build_demo(session, workspace.id, scale=SCALE, seed=seed, now=NOW)
        return _fingerprint(session, workspace.id)


def test_same_seed_builds_the_same_workspace(db: Database) -> None:
    first, second = _build(db, 7), _build(db, 7)
    assert first == second
    assert first["runs"] and first["sizes"] and first["members"]
    assert _build(db, 8) != first


def test_demo_is_reused_not_rebuilt(db: Database) -> None:
    with db.session() as session, session.begin():
        built = ensure_demo(session, scale=SCALE, now=NOW)
    with db.session() as session, session.begin():
        again = ensure_demo(session, scale=SCALE, now=NOW)
        read_keys = session.scalar(
            select(func.count()).where(
                ApiKey.workspace_id == built.workspace_id, ApiKey.scope == "read"
            )
        )
    assert built.created and not again.created
    assert again.workspace_id == built.workspace_id
    assert again.counts == built.counts
    assert again.api_key != built.api_key
    assert read_keys == 2


def _members(session: Session, workspace_id: uuid.UUID) -> dict[str, members.FrozenBitMap]:
    names = dict(
        session.execute(
            select(Audience.id, Audience.name).where(Audience.workspace_id == workspace_id)
        )
        .tuples()
        .all()
    )
    found = members.current_bitmaps(session, workspace_id, None)
    return {names[audience_id]: bitmap for audience_id, (_, bitmap) in found.items()}


def test_demo_history_is_plausible(db: Database) -> None:
    with db.session() as session, session.begin():
        demo = ensure_demo(session, scale=0.25)
        health = sync_health(session, demo.workspace_id, days=7)
        segments = _members(session, demo.workspace_id)
    assert health.failing_syncs >= 1 and health.paused_syncs >= 1
    assert any(entry.last_run_status is None for entry in health.syncs)  # a sync never ran
    assert sum(entry.total_runs for entry in health.syncs) > 100
    assert (
        0
        < sum(entry.failed_runs for entry in health.syncs)
        < sum(entry.total_runs for entry in health.syncs) / 2
    )
    buyers, high_value = segments["Purchasers"], segments["High-Value Customers"]
    assert 1000 < len(high_value) < len(buyers)
    assert high_value.issubset(buyers)
    churn, recent = segments["Churn Risk"], segments["Recent Buyers"]
    assert 0 < churn.intersection_cardinality(recent) < 0.1 * len(churn)


def test_demo_exercises_the_observability_reports(db: Database) -> None:
    """Syncs in every band, SLAs met and breached, a collapsed throughput, weekday and
    hourly schedules, audiences whose evaluations know their churn."""
    with db.session() as session, session.begin():
        demo = ensure_demo(session, scale=0.5)  # 20 syncs: room for every role
        health = sync_health(session, demo.workspace_id, days=7)
        sla = sync_sla(session, demo.workspace_id, days=30)
        throughput = sync_throughput(session, demo.workspace_id, days=30, sync_ids=None)
        velocity = audience_velocity(session, demo.workspace_id, days=30, audience_ids=None)
        schedules = set(
            session.scalars(select(Sync.schedule).where(Sync.workspace_id == demo.workspace_id))
        )
    assert all(count > 0 for count in health.health_statuses.model_dump().values()), (
        health.health_statuses
    )
    assert sla.syncs_met > 0 and sla.syncs_breached > 0
    assert any(entry.degraded for entry in throughput.syncs)
    assert "0 9 * * 1-5" in schedules
    assert any(schedule and schedule.split()[1] == "*" for schedule in schedules)  # hourly
    churning = [a for a in velocity.audiences if a.evaluations >= 10 and a.members_added]
    assert len(churning) >= 5
    hint = demo.hint("127.0.0.1", 8000)
    for path in ("sync-duration", "sync-throughput", "sync-sla", "audience-velocity", "/syncs/"):
        assert path in hint


def test_demo_command_prints_a_read_key_and_reuses_the_workspace(
    db: Database, monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    from insights.cli import main
    from insights.settings import get_settings

    monkeypatch.setenv("INSIGHTS_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        runs = [
            CliRunner().invoke(main, ["demo", "--scale", "0.05", "--no-serve"]) for _ in range(2)
        ]
    finally:
        get_settings.cache_clear()
    assert [run.exit_code for run in runs] == [0, 0], runs[0].output
    first, second = (json.loads(run.stdout) for run in runs)
    assert (first["created"], second["created"]) == (True, False)
    assert first["workspace_id"] == second["workspace_id"]
    assert "curl" in runs[0].stderr
    for body in (first, second):
        response = client.get(
            f"/api/v1/workspaces/{body['workspace_id']}",
            headers={
                "Authorization": f"Bearer {body['api_key']}",
                "X-Workspace-ID": body["workspace_id"],
            },
        )
        assert response.status_code == 200 and response.json()["name"] == DEMO_NAME
