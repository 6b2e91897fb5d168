"""Builds the benchmark's large workspace: by default 1,000 syncs with 1,000,000 runs over
90 days, and 200 audiences with 90 days of daily sizes and a current member list each."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from insights import auth, members, workspaces
from insights.db import bulk_runs
from insights.demo.audiences import evaluation_times, record_history, size_history
from insights.demo.runs import RunPlan, epoch, history_rows, insert_rows
from insights.evaluations import record_member_evaluation
from insights.models import (
    Audience,
    Destination,
    Loader,
    LoaderRun,
    Model,
    Source,
    Sync,
    SyncRun,
    utcnow,
)

TIMEZONE = "America/New_York"
WORKSPACE_NAME = "Benchmark"


@dataclass(frozen=True)
class Shape:
    """How big the workspace is."""

    syncs: int = 1_000
    runs: int = 1_000_000
    audiences: int = 200
    days: int = 90
    universe: int = 1_000_000  # member keys every audience is drawn from
    audience_sync_share: float = 0.3
    loaders: int = 10


class _Rows:
    """Adds plain resource rows with seeded ids."""

    def __init__(self, session: Session, workspace_id: uuid.UUID, seed: int) -> None:
        self.session, self.workspace_id = session, workspace_id
        self.rng = random.Random(seed)
        self.created = utcnow().replace(microsecond=0) - timedelta(days=400)

    def add(self, table: Any, count: int, make: Any) -> list[Any]:
        rows = []
        for index in range(count):
            rows.append(
                table(
                    workspace_id=self.workspace_id,
                    id=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                    created_at=self.created,
                    updated_at=self.created,
                    **make(index),
                )
            )
        self.session.add_all(rows)
        self.session.flush()
        return rows

    def status(self, shares: tuple[tuple[str, float], ...]) -> str:
        draw = self.rng.random()
        for status, share in shares:
            if draw < share:
                return status
            draw -= share
        return shares[-1][0]


def build_workspace(session: Session, shape: Shape, seed: int = 1) -> tuple[uuid.UUID, str]:
    """(workspace id, a read key) of a new workspace filled to `shape`, history up to now."""
    workspace = workspaces.create_workspace(session, WORKSPACE_NAME, TIMEZONE)
    _, key = auth.mint_key(session, workspace.id, "benchmark", "read")
    rows, now = _Rows(session, workspace.id, seed), utcnow().replace(microsecond=0)
    sources, models, destinations = _warehouse(rows)
    audiences = _audiences(session, rows, shape, now)
    syncs = _syncs(rows, shape, models, audiences, destinations)
    with bulk_runs(session, rows.workspace_id):  # PostgreSQL: rollups made once, at the end
        _runs(session, rows, SyncRun, syncs, shape.runs, shape.days, now)
    loaders = rows.add(
        Loader,
        shape.loaders,
        lambda i: {
            "name": f"Loader {i}",
            "loader_type": "s3",
            "status": "active",
            "source_id": sources[i % 3].id,
        },
    )
    _runs(session, rows, LoaderRun, loaders, shape.loaders * shape.days * 24, shape.days, now)
    return workspace.id, key


def _warehouse(rows: _Rows) -> tuple[list[Any], list[Any], list[Any]]:
    """3 sources, 20 models, 20 destinations (one in error)."""
    sources = rows.add(
        Source,
        3,
        lambda i: {"name": f"Source {i}", "status": "connected", "source_type": "snowflake"},
    )
    models = rows.add(
        Model,
        20,
        lambda i: {"name": f"Model {i:02d}", "status": "active", "source_id": sources[i % 3].id},
    )
    destinations = rows.add(
        Destination,
        20,
        lambda i: {
            "name": f"Destination {i:02d}",
            "destination_type": "google_ads",
            "status": "error" if i == 7 else "connected",
        },
    )
    return sources, models, destinations


# Every sync has a cron schedule (its freshness reads it); one in five has SLA targets.
SCHEDULE_HOURS = (1, 2, 4, 6, 12)


def _timing(index: int) -> dict[str, Any]:
    hours = SCHEDULE_HOURS[index % len(SCHEDULE_HOURS)]
    targets = {"sla_freshness_minutes": hours * 120, "sla_duration_seconds": 900}
    return {"schedule": f"{index % 60} */{hours} * * *", **(targets if index % 5 == 0 else {})}


def _syncs(
    rows: _Rows, shape: Shape, models: list[Any], audiences: list[Any], destinations: list[Any]
) -> list[Any]:
    shares = (("active", 0.85), ("paused", 0.1), ("error", 0.05))
    audience_syncs = round(shape.syncs * shape.audience_sync_share)
    model_syncs = rows.add(
        Sync,
        shape.syncs - audience_syncs,
        lambda i: {
            "name": f"Sync {i:04d}",
            "kind": "model",
            "model_id": models[i % len(models)].id,
            "destination_id": destinations[i % len(destinations)].id,
            "status": rows.status(shares),
            **_timing(i),
        },
    )
    # Round the audiences (a share of them get none) and the destinations.
    activated = audiences[: max(1, int(len(audiences) * 0.8))]
    return model_syncs + rows.add(
        Sync,
        audience_syncs,
        lambda i: {
            "name": f"Audience sync {i:04d}",
            "kind": "audience",
            "audience_id": activated[i % len(activated)].id,
            "destination_id": destinations[(i * 7) % len(destinations)].id,
            "status": rows.status(shares),
            **_timing(i),
        },
    )


def _runs(
    session: Session,
    rows: _Rows,
    table: Any,
    parents: list[Any],
    total: int,
    days: int,
    now: datetime,
) -> None:
    """`total` runs spread evenly over the parents and the days, failures in streaks."""
    end = epoch(now)
    interval = max(60, int(days * 86400 * len(parents) / total))
    column = "loader_id" if table is LoaderRun else "sync_id"
    plans = [
        RunPlan(
            parent.id,
            interval,
            end - days * 86400,
            end,
            median_seconds=rows.rng.uniform(20, 600),
            rows_median=rows.rng.uniform(1e2, 1e5),
            fail_start=rows.rng.uniform(0.002, 0.03),
            recover=rows.rng.uniform(0.2, 0.5),
            failing_tail=rows.rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 3, 6)),
        )
        for parent in parents
    ]
    insert_rows(session, table, history_rows(plans, rows.rng, rows.workspace_id, end, column))


def _audiences(session: Session, rows: _Rows, shape: Shape, now: datetime) -> list[Any]:
    """Audiences of log-uniform sizes drawn from one universe of member keys, with a daily
    size history and a current member list."""
    audiences = rows.add(
        Audience,
        shape.audiences,
        lambda i: {"name": f"Audience {i:03d}", "status": "inactive" if i % 10 == 9 else "active"},
    )
    keys = [f"member_{i:010d}" for i in range(shape.universe)]
    universe = np.frombuffer(
        members.encode_keys(session, rows.workspace_id, keys).to_array(), dtype=np.uint32
    )
    np_rng = np.random.default_rng(rows.rng.getrandbits(32))
    times = evaluation_times(now, ZoneInfo(TIMEZONE), shape.days)
    for audience in audiences:
        size = int(10 ** np_rng.uniform(3, np.log10(min(shape.universe, 250_000))))
        history = size_history(size, len(times), np_rng)
        record_history(session, rows.workspace_id, audience.id, times[:-1], history[:-1], np_rng)
        chosen = np.sort(np_rng.choice(universe, size=size, replace=False))
        record_member_evaluation(
            session, rows.workspace_id, audience.id, times[-1], members.BitMap(chosen.tolist())
        )
    return audiences
