"""The demo workspace: a deterministic (seeded), realistic history of sources, syncs, runs
and audiences up to now, built set-based at a chosen scale."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from insights import auth, workspaces
from insights.demo.builder import build_demo
from insights.models import (
    Audience,
    AudienceEvaluation,
    Destination,
    Loader,
    LoaderRun,
    MemberKey,
    Sync,
    SyncRun,
    Workspace,
)

DEMO_NAME = "Demo workspace"
DEMO_TIMEZONE = "America/New_York"
EXAMPLE_AUDIENCES = ("Purchasers", "High-Value Customers")


@dataclass
class DemoWorkspace:
    """The demo workspace, a fresh read key for it, and whether it was built just now."""

    workspace_id: uuid.UUID
    api_key: str
    created: bool
    counts: dict[str, int]
    # Two audiences with member lists, for the overlap example of the hint.
    example_audiences: list[uuid.UUID]
    # A sync with SLA targets, for the sync detail example of the hint.
    example_sync: uuid.UUID | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "workspace_id": str(self.workspace_id),
            "api_key": self.api_key,
            "created": self.created,
        }

    def hint(self, host: str, port: int) -> str:
        """What to try next, for people: curl lines for the insights of this workspace."""
        state = "built now" if self.created else "reused (its history ends when it was built)"
        counts = ", ".join(f"{name.replace('_', ' ')} {n:,}" for name, n in self.counts.items())
        overlap = ",".join(str(a) for a in self.example_audiences)
        paths = [
            "summary",
            "sync-health?days=7",
            "audience-trends?days=30",
            "activation-coverage",
            f"audience-overlap?audience_ids={overlap}",
            "sync-duration?days=30",
            "sync-throughput?days=30",
            "sync-sla?days=30",
            "audience-velocity?days=30",
        ]
        if self.example_sync is not None:
            paths.append(f"syncs/{self.example_sync}?days=30")
        base = f"http://{host}:{port}/api/v1/workspaces/$WS/insights"
        headers = '-H "Authorization: Bearer $KEY" -H "X-Workspace-ID: $WS"'
        lines = [
            f"{DEMO_NAME} {state}: {counts}.",
            "Try:",
            f"  KEY={self.api_key} WS={self.workspace_id}",
        ]
        lines += [f'  curl -s {headers} "{base}/{path}"' for path in paths]
        return "\n".join(lines)


def ensure_demo(
    session: Session, *, scale: float = 1.0, seed: int = 42, now: datetime | None = None
) -> DemoWorkspace:
    """Find the demo workspace by name, or create and fill it; mint a read key either way
    (only key hashes are stored, so an old key cannot be shown again)."""
    query = select(Workspace).where(Workspace.name == DEMO_NAME).order_by(Workspace.created_at)
    workspace = session.scalars(query).first()
    created = workspace is None
    if workspace is None:
        workspace = workspaces.create_workspace(session, DEMO_NAME, DEMO_TIMEZONE)
        build_demo(session, workspace.id, scale=scale, seed=seed, now=now)
    _, raw = auth.mint_key(session, workspace.id, "demo (read)", "read")
    examples = session.scalars(
        select(Audience.id)
        .where(Audience.workspace_id == workspace.id, Audience.name.in_(EXAMPLE_AUDIENCES))
        .order_by(Audience.name.desc())
    )
    counts = demo_counts(session, workspace.id)
    example_sync = session.scalars(
        select(Sync.id)
        .where(Sync.workspace_id == workspace.id, Sync.sla_freshness_minutes.is_not(None))
        .order_by(Sync.name, Sync.id)
    ).first()
    return DemoWorkspace(workspace.id, raw, created, counts, list(examples), example_sync)


def demo_counts(session: Session, workspace_id: uuid.UUID) -> dict[str, int]:
    tables: dict[str, Any] = {
        "syncs": Sync,
        "sync_runs": SyncRun,
        "audiences": Audience,
        "evaluations": AudienceEvaluation,
        "member_keys": MemberKey,
        "destinations": Destination,
        "loaders": Loader,
        "loader_runs": LoaderRun,
    }
    return {
        name: session.scalar(select(func.count()).where(table.workspace_id == workspace_id)) or 0
        for name, table in tables.items()
    }
