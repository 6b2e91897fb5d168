"""Activation coverage: which audiences reach which destinations, and which reach none."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.models import Audience, Destination, Sync, SyncState
from insights.reports.common import by_name, latest_size_probe
from insights.reports.health_inputs import with_state
from insights.schemas.base import ResponseModel, example
from insights.types import OutTimestamp

# The best status wins when one audience reaches one destination through several syncs.
STATUS_RANK = {"active": 0, "error": 1, "paused": 2}


class CoveredAudience(ResponseModel):
    audience_id: uuid.UUID
    audience_name: str
    sync_status: str
    last_synced_at: OutTimestamp | None


class DestinationCoverage(ResponseModel):
    destination_id: uuid.UUID
    destination_name: str
    destination_type: str
    audience_count: int
    audiences: list[CoveredAudience]


class UnactivatedAudience(ResponseModel):
    audience_id: uuid.UUID
    audience_name: str
    estimated_size: int | None


class ActivationCoverageResponse(ResponseModel):
    model_config = example(
        {
            "total_audiences": 15,
            "activated_audiences": 12,
            "unactivated_audiences": 3,
            "destinations": [
                {
                    "destination_id": "3c2b1a09-8f7e-4d6c-9b5a-493827165e4d",
                    "destination_name": "Google Ads",
                    "destination_type": "google_ads",
                    "audience_count": 1,
                    "audiences": [
                        {
                            "audience_id": "0b5d3f4e-1c2a-4d6b-8e9f-1a2b3c4d5e6f",
                            "audience_name": "High-Value Customers",
                            "sync_status": "active",
                            "last_synced_at": "2024-01-15T15:00:00Z",
                        }
                    ],
                }
            ],
            "unactivated": [
                {
                    "audience_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "audience_name": "Churned Users",
                    "estimated_size": 850,
                }
            ],
        }
    )

    total_audiences: int
    activated_audiences: int
    unactivated_audiences: int
    destinations: list[DestinationCoverage]
    unactivated: list[UnactivatedAudience]


@dataclass
class _Pair:
    """What the audience-syncs of one (destination, audience) pair add up to."""

    status: str
    last_synced_at: datetime | None


def activation_coverage(session: Session, workspace_id: uuid.UUID) -> ActivationCoverageResponse:
    """Audiences (of every status) by destination, and those no active audience-sync uses."""
    audiences = _audiences(session, workspace_id)
    pairs = _pairs(session, workspace_id)
    activated = {
        audience_id
        for by_audience in pairs.values()
        for audience_id, pair in by_audience.items()
        if pair.status == "active"
    }
    unactivated = [row for row in audiences.values() if row.id not in activated]
    return ActivationCoverageResponse(
        total_audiences=len(audiences),
        activated_audiences=len(audiences) - len(unactivated),
        unactivated_audiences=len(unactivated),
        destinations=_destinations(session, workspace_id, audiences, pairs),
        unactivated=[_unactivated(row) for row in by_name(unactivated)],
    )


def _audiences(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, Any]:
    query = select(
        Audience.id,
        Audience.name,
        Audience.estimated_size,
        latest_size_probe().label("latest_size"),
    ).where(Audience.workspace_id == workspace_id)
    return {row.id: row for row in session.execute(query)}


def _unactivated(row: Any) -> UnactivatedAudience:
    size = row.latest_size if row.latest_size is not None else row.estimated_size
    return UnactivatedAudience(audience_id=row.id, audience_name=row.name, estimated_size=size)


def _pairs(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, dict[uuid.UUID, _Pair]]:
    """destination id -> audience id -> the pair's best status and latest sync time."""
    # The latest completed_at of a sync's completed runs is its state row's last success
    # (kept by the run table's triggers): one row per sync, not a probe of its runs.
    query = with_state(
        select(Sync.destination_id, Sync.audience_id, Sync.status, SyncState.last_success_at)
    ).where(Sync.workspace_id == workspace_id, Sync.kind == "audience")
    pairs: dict[uuid.UUID, dict[uuid.UUID, _Pair]] = defaultdict(dict)
    for destination_id, audience_id, status, last in session.execute(query):
        pair = pairs[destination_id].setdefault(audience_id, _Pair(status, last))
        if _rank(status) < _rank(pair.status):
            pair.status = status
        if last is not None and (pair.last_synced_at is None or last > pair.last_synced_at):
            pair.last_synced_at = last
    return pairs


def _rank(status: str) -> int:
    return STATUS_RANK.get(status, len(STATUS_RANK))


def _destinations(
    session: Session,
    workspace_id: uuid.UUID,
    audiences: dict[uuid.UUID, Any],
    pairs: dict[uuid.UUID, dict[uuid.UUID, _Pair]],
) -> list[DestinationCoverage]:
    query = select(Destination.id, Destination.name, Destination.destination_type).where(
        Destination.workspace_id == workspace_id
    )
    result = []
    for row in by_name(session.execute(query)):
        entries = _covered(audiences, pairs.get(row.id, {}))
        result.append(
            DestinationCoverage(
                destination_id=row.id,
                destination_name=row.name,
                destination_type=row.destination_type,
                audience_count=len(entries),
                audiences=entries,
            )
        )
    return result


def _covered(
    audiences: dict[uuid.UUID, Any], by_audience: dict[uuid.UUID, _Pair]
) -> list[CoveredAudience]:
    """One destination's audiences, by name then id."""
    return [
        CoveredAudience(
            audience_id=audience.id,
            audience_name=audience.name,
            sync_status=by_audience[audience.id].status,
            last_synced_at=by_audience[audience.id].last_synced_at,
        )
        for audience in by_name(audiences[audience_id] for audience_id in by_audience)
    ]
