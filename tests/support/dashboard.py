"""For the dashboard tests: a small fixed workspace (one of everything each page shows) and
helpers to read pages over HTTP."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from insights.models import Model
from tests.support.api import Api
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
    sync_run_row,
)


@dataclass
class Seeded:
    """IDs the tests ask for by name."""

    syncs: dict[str, uuid.UUID] = field(default_factory=dict)
    audiences: dict[str, uuid.UUID] = field(default_factory=dict)
    destinations: dict[str, uuid.UUID] = field(default_factory=dict)

    def with_members(self) -> list[uuid.UUID]:
        """The audiences that have member lists, in a fixed order."""
        names = ("High-Value Customers", "Recent Buyers", "Churn Risk", "Newsletter", "VIP")
        return [self.audiences[name] for name in names]


# Each sync: (name, status, its runs as (hours ago, status)). Orders failed last and Events
# runs after a failure: both are failing. Customers failed once, then recovered.
SYNC_PLAN = [
    ("Customers to Salesforce", "active", [(2, "completed"), (8, "completed"), (30, "failed")]),
    ("Orders to Google Ads", "active", [(1, "failed"), (5, "completed"), (9, "completed")]),
    ("Leads to Braze", "paused", [(50, "completed")]),
    ("Scores to Braze", "error", []),
    ("Events to Salesforce", "active", [(3, "running"), (6, "failed")]),
]
Run = tuple[int, str, int]  # hours ago, status, seconds


def _observed_plan() -> list[tuple[str, dict[str, object], list[Run]]]:
    """Syncs with a schedule or SLA targets and days of history, for the health-score bands,
    the sync detail and the SLA pages: (name, sync fields, runs)."""
    every_4h: list[Run] = [
        (
            4 * k + 1,
            "failed" if k == 30 else "completed",
            700 if k in (17, 40) else 150 + k * 37 % 120,
        )
        for k in range(190)
        if k not in (100, 101, 102)
    ]  # healthy; SLA met (a 16-hour gap, two runs over the duration target, a failure)
    stalled: list[Run] = [
        (10, "completed", 240),
        *[(hours, "failed", 60) for hours in (14, 18, 30, 34)],
        *[(hours, "completed", 120) for hours in (22, 26, 100, 110, 120, *range(170, 700, 24))],
    ]  # degraded: failures rising, the latest run twice as slow, no success for 10 hours
    every_6h: list[Run] = [
        (6 * k + 5, "completed", 900 if k == 0 else 420 if k == 12 else 200 + k * 53 % 90)
        for k in range(40)
    ]  # warning; SLA breached: stale, and the latest run over its duration target
    return [
        (
            "Accounts to Salesforce",
            {"schedule": "0 */4 * * *", "sla_freshness_minutes": 360, "sla_duration_seconds": 600},
            every_4h,
        ),
        (
            "Invoices to Salesforce",
            {"sla_freshness_minutes": 120, "sla_duration_seconds": 300},
            every_6h,
        ),
        ("Products to Google Ads", {"schedule": "0 */4 * * *"}, stalled),
    ]


def _catalog(session: Session, workspace_id: uuid.UUID, now: datetime, seeded: Seeded) -> Model:
    """Sources, destinations, a loader with a run today; returns the model syncs read."""
    source = make_source(session, workspace_id, name="Snowflake")
    make_source(session, workspace_id, name="Replica", status="error")
    for name, kind in (
        ("Salesforce", "salesforce"),
        ("Google Ads", "google_ads"),
        ("Braze", "braze"),
    ):
        destination = make_destination(session, workspace_id, name=name, destination_type=kind)
        seeded.destinations[name] = destination.id
    loader = make_loader(session, workspace_id, name="S3 events")
    started = now - timedelta(minutes=20)
    make_loader_run(
        session, workspace_id, loader.id, started_at=started, duration=60, rows_loaded=4321
    )
    return make_model(session, workspace_id, source_id=source.id, name="Customers")


def _syncs(session: Session, workspace_id: uuid.UUID, now: datetime, seeded: Seeded) -> None:
    model = _catalog(session, workspace_id, now, seeded)
    destinations = list(seeded.destinations.values())
    for index, (name, status, runs) in enumerate(SYNC_PLAN):
        sync = make_sync(
            session,
            workspace_id,
            name=name,
            status=status,
            model_id=model.id,
            destination_id=destinations[index % len(destinations)],
        )
        seeded.syncs[name] = sync.id
        session.add_all(
            sync_run_row(
                workspace_id,
                sync.id,
                started_at=now - timedelta(hours=hours, minutes=5),
                status=run_status,
                duration=None if run_status == "running" else 60 + hours * 7,
                rows_created=100 * hours,
                rows_updated=7 * hours,
            )
            for hours, run_status in runs
        )
    session.flush()
    _observed_syncs(session, workspace_id, model, now, seeded)


def _observed_syncs(
    session: Session, workspace_id: uuid.UUID, model: Model, now: datetime, seeded: Seeded
) -> None:
    for name, fields, runs in _observed_plan():
        destination = seeded.destinations[name.rsplit(" to ", 1)[1]]
        sync = make_sync(
            session,
            workspace_id,
            name=name,
            model_id=model.id,
            destination_id=destination,
            **fields,
        )
        seeded.syncs[name] = sync.id
        session.add_all(
            sync_run_row(
                workspace_id,
                sync.id,
                started_at=now - timedelta(hours=hours),
                status=status,
                duration=seconds,
                rows_created=300 if hours == 10 else 800 + hours * 13 % 400,
                rows_updated=150,
            )
            for hours, status, seconds in runs
        )
    session.flush()


def _audiences(session: Session, workspace_id: uuid.UUID, now: datetime, seeded: Seeded) -> None:
    people = [f"person-{i}" for i in range(1000)]
    ranges = {
        "High-Value Customers": (0, 400),
        "Recent Buyers": (250, 700),
        "Churn Risk": (600, 900),
        "Newsletter": (100, 1000),
        "VIP": (0, 120),
    }
    for name, (low, high) in ranges.items():
        audience = make_audience(session, workspace_id, name=name)
        seeded.audiences[name] = audience.id
        previous = None
        for days_ago in (20, 10, 3):
            size = (high - low) - days_ago * 3
            make_evaluation(
                session,
                workspace_id,
                audience.id,
                evaluated_at=now - timedelta(days=days_ago),
                size=size,
                **_change(previous, size, days_ago + (high - low) // 20),
            )
            previous = size
        make_members(
            session,
            workspace_id,
            audience.id,
            people[low:high],
            evaluated_at=now - timedelta(hours=1),
        )
    sizes_only = make_audience(session, workspace_id, name="Imported sizes", estimated_size=850)
    seeded.audiences["Imported sizes"] = sizes_only.id
    make_evaluation(
        session, workspace_id, sizes_only.id, evaluated_at=now - timedelta(days=2), size=900
    )


def _change(previous: int | None, size: int, churn: int) -> dict[str, int]:
    """Members added and removed since the evaluation before (none for the first one)."""
    if previous is None:
        return {}
    removed = 5 + churn * 2
    return {"members_added": size - previous + removed, "members_removed": removed}


def _activations(session: Session, workspace_id: uuid.UUID, now: datetime, seeded: Seeded) -> None:
    pairs = [
        ("High-Value Customers", "Google Ads", "active"),
        ("High-Value Customers", "Salesforce", "paused"),
        ("Recent Buyers", "Google Ads", "error"),
        ("Churn Risk", "Salesforce", "active"),
    ]
    for audience, destination, status in pairs:
        sync = make_audience_sync(
            session,
            workspace_id,
            name=f"{audience} to {destination}",
            status=status,
            audience_id=seeded.audiences[audience],
            destination_id=seeded.destinations[destination],
        )
        seeded.syncs[sync.name] = sync.id
        make_sync_run(
            session,
            workspace_id,
            sync.id,
            started_at=now - timedelta(hours=4),
            duration=90,
            rows_created=50,
        )


def seed_workspace(
    session: Session, workspace_id: uuid.UUID, now: datetime | None = None
) -> Seeded:
    """Sources, syncs with runs (one failing), audiences with members and history, a size-only
    audience, audience-syncs of every status, a destination with none, a loader run today."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    seeded = Seeded()
    _syncs(session, workspace_id, now, seeded)
    _audiences(session, workspace_id, now, seeded)
    _activations(session, workspace_id, now, seeded)
    return seeded


def page(api: Api, suffix: str = "") -> str:
    """The path of a dashboard page of `api`'s workspace."""
    return f"/workspaces/{api.workspace_id}{suffix}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def sign_in(client: TestClient, key: str, **form: str) -> httpx2.Response:
    return client.post("/login", data={"api_key": key, **form}, follow_redirects=False)


def set_cookie_header(response: httpx2.Response) -> str:
    headers = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    assert len(headers) == 1, headers
    return str(headers[0])


def fields(html: str) -> dict[str, list[str]]:
    """data-field name -> the data-value of each element that carries both, in page order."""
    found: dict[str, list[str]] = {}
    for tag in re.findall(r"<[a-z]+\b[^>]*\bdata-field=[^>]*>", html):
        name = re.search(r'data-field="([^"]*)"', tag)
        value = re.search(r'data-value="([^"]*)"', tag)
        if name and value:
            found.setdefault(name.group(1), []).append(value.group(1))
    return found
