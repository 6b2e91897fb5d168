"""Activation coverage: activation rule, best status, last sync time, sizes and isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from insights.models import Audience, Destination
from insights.reports.activation_coverage import activation_coverage
from tests.support.databases import Database
from tests.support.factories import (
    make_audience,
    make_audience_sync,
    make_destination,
    make_evaluation,
    make_sync,
    make_sync_run,
    make_workspace,
)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 1, day, hour, tzinfo=UTC)


def _audiences(session: Session, workspace_id: uuid.UUID) -> dict[str, Audience]:
    def audience(name: str, status: str = "active", **fields: Any) -> Audience:
        return make_audience(session, workspace_id, name=name, status=status, **fields)

    audiences = {
        "high_value": audience("High-Value", estimated_size=1000),
        "churned": audience("Churned", "inactive", estimated_size=850),
        "recent": audience("Recent Buyers", "error", estimated_size=999),
        "lapsed": audience("Lapsed", estimated_size=500),
        "dormant": audience("Dormant"),
        "lower": audience("archived", "inactive"),
    }
    # Backfilled out of order: the latest evaluation (size 0) is inserted first.
    make_evaluation(session, workspace_id, audiences["recent"].id, evaluated_at=at(2), size=200)
    make_evaluation(session, workspace_id, audiences["lapsed"].id, evaluated_at=at(5), size=0)
    make_evaluation(session, workspace_id, audiences["lapsed"].id, evaluated_at=at(3), size=70)
    return audiences


def _destinations(session: Session, workspace_id: uuid.UUID) -> dict[str, Destination]:
    def destination(name: str, kind: str) -> Destination:
        return make_destination(session, workspace_id, name=name, destination_type=kind)

    return {
        "google": destination("Google Ads", "google_ads"),
        "braze": destination("Braze", "braze"),
        "empty": destination("Empty", "webhook"),
        "meta": destination("Meta", "meta_ads"),
    }


def _syncs(
    session: Session,
    workspace_id: uuid.UUID,
    aud: dict[str, Audience],
    dest: dict[str, Destination],
) -> None:
    def sync(audience: str, destination: str, status: str) -> uuid.UUID:
        row = make_audience_sync(
            session, workspace_id, audience_id=aud[audience].id,
            destination_id=dest[destination].id, status=status,
        )  # fmt: skip
        return row.id

    def run(sync_id: uuid.UUID, started_at: datetime, **fields: Any) -> None:
        make_sync_run(session, workspace_id, sync_id, started_at=started_at, **fields)

    # High-Value reaches Google Ads through a paused and an erroring sync.
    paused = sync("high_value", "google", "paused")
    run(paused, at(10), completed_at=at(10, 5))  # started first, finished last
    erroring = sync("high_value", "google", "error")
    run(erroring, at(10, 1), completed_at=at(10, 2))
    run(erroring, at(11), status="failed", completed_at=at(11, 1))
    run(erroring, at(12), status="cancelled", completed_at=at(13))
    run(erroring, at(14), status="running")
    active = sync("high_value", "braze", "active")  # this one activates High-Value
    run(active, at(14), completed_at=at(14, 3))
    sync("recent", "google", "active")  # activated; never ran
    lapsed = sync("lapsed", "meta", "paused")
    run(lapsed, at(6), completed_at=at(6, 1))
    sync("lapsed", "meta", "paused")
    # A model sync to Google Ads is no audience's activation.
    make_sync(session, workspace_id, destination_id=dest["google"].id)


def _other_workspace(session: Session) -> None:
    other = make_workspace(session, name="Other")
    sync = make_audience_sync(session, other.id, status="active")
    make_sync_run(session, other.id, sync.id, started_at=at(14), completed_at=at(14, 9))
    make_audience(session, other.id, name="Aardvark")


def _build(db: Database, workspace_id: uuid.UUID) -> tuple[dict[str, str], dict[str, str]]:
    with db.session() as session, session.begin():
        aud = _audiences(session, workspace_id)
        dest = _destinations(session, workspace_id)
        _syncs(session, workspace_id, aud, dest)
        _other_workspace(session)
        return {k: str(v.id) for k, v in aud.items()}, {k: str(v.id) for k, v in dest.items()}


def _report(db: Database, workspace_id: uuid.UUID) -> dict[str, Any]:
    with db.read() as session:
        return activation_coverage(session, workspace_id).model_dump(mode="json")


def test_activation_counts_audiences_of_every_status(db: Database, workspace_id: uuid.UUID) -> None:
    _build(db, workspace_id)
    report = _report(db, workspace_id)
    # Activated: High-Value (active sync to Braze) and Recent Buyers (error audience).
    assert (
        report["total_audiences"],
        report["activated_audiences"],
        report["unactivated_audiences"],
    ) == (6, 2, 4)


def test_destinations_list_every_destination_with_best_status_and_last_sync(
    db: Database, workspace_id: uuid.UUID
) -> None:
    aud, dest = _build(db, workspace_id)
    assert _report(db, workspace_id)["destinations"] == [
        {
            "destination_id": dest["braze"],
            "destination_name": "Braze",
            "destination_type": "braze",
            "audience_count": 1,
            "audiences": [
                {
                    "audience_id": aud["high_value"],
                    "audience_name": "High-Value",
                    "sync_status": "active",
                    "last_synced_at": "2024-01-14T03:00:00Z",
                }
            ],
        },
        {
            "destination_id": dest["empty"],
            "destination_name": "Empty",
            "destination_type": "webhook",
            "audience_count": 0,
            "audiences": [],
        },
        {
            "destination_id": dest["google"],
            "destination_name": "Google Ads",
            "destination_type": "google_ads",
            "audience_count": 2,
            "audiences": [
                {
                    "audience_id": aud["high_value"],
                    "audience_name": "High-Value",
                    "sync_status": "error",  # error over paused
                    "last_synced_at": "2024-01-10T05:00:00Z",  # latest completed_at
                },
                {
                    "audience_id": aud["recent"],
                    "audience_name": "Recent Buyers",
                    "sync_status": "active",
                    "last_synced_at": None,
                },
            ],
        },
        {
            "destination_id": dest["meta"],
            "destination_name": "Meta",
            "destination_type": "meta_ads",
            "audience_count": 1,  # two syncs, one audience
            "audiences": [
                {
                    "audience_id": aud["lapsed"],
                    "audience_name": "Lapsed",
                    "sync_status": "paused",
                    "last_synced_at": "2024-01-06T01:00:00Z",
                }
            ],
        },
    ]


def test_unactivated_sizes_prefer_latest_evaluation_then_own_estimate(
    db: Database, workspace_id: uuid.UUID
) -> None:
    aud, _ = _build(db, workspace_id)
    # Code-point order puts lowercase "archived" last.
    assert _report(db, workspace_id)["unactivated"] == [
        {"audience_id": aud["churned"], "audience_name": "Churned", "estimated_size": 850},
        {"audience_id": aud["dormant"], "audience_name": "Dormant", "estimated_size": None},
        {"audience_id": aud["lapsed"], "audience_name": "Lapsed", "estimated_size": 0},
        {"audience_id": aud["lower"], "audience_name": "archived", "estimated_size": None},
    ]


def test_same_names_sort_by_id(db: Database, workspace_id: uuid.UUID) -> None:
    high = uuid.UUID("ffffffff-0000-4000-8000-000000000000")
    low = uuid.UUID("00000000-0000-4000-8000-000000000000")
    with db.session() as session, session.begin():
        for audience_id in (high, low):
            make_audience(session, workspace_id, id=audience_id, name="Twin")
            make_destination(session, workspace_id, id=audience_id, name="Twin")
        for audience_id in (high, low):
            make_audience_sync(
                session, workspace_id, audience_id=audience_id, destination_id=low, status="paused"
            )
    report = _report(db, workspace_id)
    assert [a["audience_id"] for a in report["unactivated"]] == [str(low), str(high)]
    assert [d["destination_id"] for d in report["destinations"]] == [str(low), str(high)]
    assert [a["audience_id"] for a in report["destinations"][0]["audiences"]] == [
        str(low),
        str(high),
    ]


def test_workspace_without_audiences_or_destinations_is_empty(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        _other_workspace(session)
    assert _report(db, workspace_id) == {
        "total_audiences": 0,
        "activated_audiences": 0,
        "unactivated_audiences": 0,
        "destinations": [],
        "unactivated": [],
    }
