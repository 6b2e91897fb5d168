"""Fills a workspace with the demo's rows: resources, 90 days of runs, audiences with
members, all drawn from one seeded stream so the same seed gives the same workspace."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from insights.demo import roles
from insights.demo.audiences import (
    SEGMENTS,
    customer_traits,
    encode_universe,
    evaluation_times,
    record_history,
    record_members,
    size_history,
)
from insights.demo.catalog import (
    AD_AND_MESSAGING,
    DEFAULTS,
    DESTINATIONS,
    HISTORY_DAYS,
    INTERVAL_HOURS,
    LOADERS,
    MODELS,
    SOURCES,
    UNIVERSE,
    cron,
    numbered_names,
    spread_pairs,
    sync_roles,
)
from insights.demo.runs import GENERIC_ERRORS, RunPlan, epoch, history_rows, insert_rows
from insights.models import (
    Audience,
    Destination,
    Loader,
    LoaderRun,
    Model,
    Source,
    Sync,
    SyncRun,
    Workspace,
    utcnow,
)


def build_demo(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    scale: float = 1.0,
    seed: int = 42,
    now: datetime | None = None,
) -> None:
    """Fill the workspace with `HISTORY_DAYS` of history ending at `now`; the same seed,
    scale and `now` always give the same rows."""
    now = (now or utcnow()).replace(microsecond=0)
    zone = ZoneInfo(session.get(Workspace, workspace_id).timezone)  # type: ignore[union-attr]
    builder = DemoBuilder(session, workspace_id, seed, now, zone)
    count = {name: max(1, round(value * scale)) for name, value in DEFAULTS.items()}
    sources = builder.resources(Source, SOURCES, count["sources"], "source_type")
    models = builder.models(count["models"], sources)
    destinations = builder.destinations(count["destinations"])
    audiences = builder.audiences(
        count["audiences"], models[0].id, max(1000, round(UNIVERSE * scale))
    )
    syncs = builder.model_syncs(count["model_syncs"], models, destinations)
    syncs += builder.audience_syncs(count["audience_syncs"], audiences, destinations)
    builder.sync_history(syncs)
    builder.loaders(count["loaders"], sources)


class DemoBuilder:
    """Adds the demo's rows to one workspace, drawing every choice from one seeded stream."""

    def __init__(
        self, session: Session, workspace_id: uuid.UUID, seed: int, now: datetime, zone: ZoneInfo
    ) -> None:
        self.session, self.workspace_id, self.now, self.zone = session, workspace_id, now, zone
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.audience_sizes: dict[uuid.UUID, int] = {}

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def add(self, table: Any, *, days_old: tuple[float, float] = (120, 400), **fields: Any) -> Any:
        created = (self.now - timedelta(days=self.rng.uniform(*days_old))).replace(microsecond=0)
        row = table(
            workspace_id=self.workspace_id,
            id=self.new_id(),
            created_at=created,
            updated_at=created,
            **fields,
        )
        self.session.add(row)
        return row

    def resources(
        self, table: Any, catalog: tuple[Any, ...], count: int, type_field: str
    ) -> list[Any]:
        rows = [
            self.add(table, name=name, status="connected", **{type_field: kind})
            for name, kind in numbered_names(catalog, count)
        ]
        self.session.flush()
        return rows

    def models(self, count: int, sources: list[Source]) -> list[Model]:
        rows = [
            self.add(
                Model,
                name=name,
                source_id=sources[index % len(sources)].id,
                status="inactive" if name == "Web Sessions" else "active",
            )
            for index, (name, _) in enumerate(numbered_names(MODELS, count))
        ]
        self.session.flush()
        return rows

    def destinations(self, count: int) -> list[Destination]:
        rows = self.resources(Destination, DESTINATIONS, count, "destination_type")
        for row in rows:
            if row.destination_type == "linkedin_ads":
                row.status = "error"
                row.status_error = "OAuth token expired; reconnect the LinkedIn Ads account"
        return rows

    def audiences(self, count: int, model_id: uuid.UUID, universe: int) -> list[Audience]:
        """The audiences with their members and 90 days of sizes."""
        traits = customer_traits(universe, self.np_rng)
        ids = encode_universe(self.session, self.workspace_id, universe)
        times = evaluation_times(self.now, self.zone, HISTORY_DAYS)
        rows = []
        for index, (name, _) in enumerate(numbered_names(tuple(s.name for s in SEGMENTS), count)):
            segment = SEGMENTS[index % len(SEGMENTS)]
            mask = segment.rule(traits)
            if index >= len(SEGMENTS):  # a later copy: a sample of the original
                mask = mask & (self.np_rng.random(universe) < 0.6)
            row = self.add(
                Audience,
                name=name,
                description=segment.description,
                status=segment.status,
                parent_model_id=model_id,
            )
            self.session.flush()
            if segment.with_members:
                sizes = record_members(
                    self.session, self.workspace_id, row.id, times, ids, mask, self.np_rng
                )
            else:
                sizes = size_history(int(mask.sum()), len(times), self.np_rng)
                record_history(self.session, self.workspace_id, row.id, times, sizes, self.np_rng)
                row.estimated_size = sizes[-1]
            self.audience_sizes[row.id] = sizes[-1]
            rows.append(row)
        return rows

    def model_syncs(self, count: int, models: list[Model], dests: list[Destination]) -> list[Sync]:
        pairs = spread_pairs([m for m in models if m.status == "active"] or models, dests, count)
        return [
            self.add(
                Sync,
                kind="model",
                name=f"{m.name} to {d.name}",
                model_id=m.id,
                destination_id=d.id,
                sync_mode=self.rng.choice(("upsert", "update", "mirror")),
                status="active",
            )
            for m, d in pairs
        ]

    def audience_syncs(
        self, count: int, audiences: list[Audience], dests: list[Destination]
    ) -> list[Sync]:
        """Audience-syncs of most active audiences; the rest stay unactivated."""
        active = [a for a in audiences if a.status == "active"]
        self.rng.shuffle(active)
        keep = max(1, len(active) - max(1, round(len(active) * 0.1)))
        targets = [d for d in dests if d.destination_type in AD_AND_MESSAGING] or dests
        return [
            self.add(
                Sync,
                kind="audience",
                name=f"{a.name} to {d.name}",
                audience_id=a.id,
                destination_id=d.id,
                sync_mode="mirror",
                status="active",
            )
            for a, d in spread_pairs(active[:keep], targets, count)
        ]

    def sync_history(self, syncs: list[Sync]) -> None:
        """Give each sync a role (demo/roles.py), its schedule and targets, and its runs."""
        order = list(syncs)
        self.rng.shuffle(order)
        plans = []
        for sync, role in zip(order, sync_roles(len(order)), strict=True):
            _apply_role(sync, role, self)
            sync.schedule, hours = roles.schedule(role, self.rng)
            for name, value in roles.sla_targets(role, hours, self.rng).items():
                setattr(sync, name, value)
            if role != "never_ran":
                plans.append(roles.shape(self.plan(sync, role, hours), role, self.rng, self.zone))
        self.session.flush()
        self.runs(SyncRun, plans, "sync_id")

    def runs(self, table: Any, plans: list[RunPlan], parent_column: str) -> None:
        rows = history_rows(plans, self.rng, self.workspace_id, epoch(self.now), parent_column)
        insert_rows(self.session, table, rows)

    def plan(self, parent: Any, role: str, hours: int) -> RunPlan:
        now = epoch(self.now)
        end = now - self.rng.randint(5, 40) * 86400 if role == "paused" else now
        audience_id = getattr(parent, "audience_id", None)
        size = self.audience_sizes.get(audience_id, 0) if audience_id else 0
        rows = size * self.rng.uniform(0.01, 0.08) if size else 10 ** self.rng.uniform(2.7, 5.3)
        tail = {"failing": self.rng.randint(3, 8), "error": self.rng.randint(8, 16)}.get(role, 0)
        return RunPlan(
            parent.id,
            hours * 3600,
            max(now - HISTORY_DAYS * 86400, epoch(parent.created_at)),
            end,
            median_seconds=10 ** self.rng.uniform(1.5, 3.0),
            rows_median=max(20.0, rows),
            fail_start=self.rng.uniform(0.003, 0.03),
            recover=self.rng.uniform(0.2, 0.5),
            failing_tail=tail,
            queued_at_end=role == "healthy" and self.rng.random() < 0.1,
            errors=(self.rng.choice(GENERIC_ERRORS),) if tail else GENERIC_ERRORS,
        )

    def loaders(self, count: int, sources: list[Source]) -> None:
        rows = [
            self.add(
                Loader,
                name=name,
                loader_type=kind,
                status="active",
                source_id=sources[index % len(sources)].id,
            )
            for index, (name, kind) in enumerate(numbered_names(LOADERS, count))
        ]
        if len(rows) > 2:
            rows[-1].status = "paused"
        plans = []
        for row in rows:
            hours = self.rng.choice(INTERVAL_HOURS[:5])
            row.schedule = cron(hours, self.rng)
            plans.append(self.plan(row, "paused" if row.status == "paused" else "healthy", hours))
            plans[-1].rows_median *= 20  # loaders move raw events, far more rows than syncs
        self.session.flush()
        self.runs(LoaderRun, plans, "loader_id")


def _apply_role(sync: Sync, role: str, builder: DemoBuilder) -> None:
    if role == "paused":
        sync.status = "paused"
    elif role == "error":
        sync.status = "error"
        sync.status_error = "Stopped after repeated failures; see the latest run's error"
    elif role == "never_ran":
        sync.created_at = builder.now - timedelta(hours=builder.rng.randint(2, 60))
        sync.updated_at = sync.created_at
