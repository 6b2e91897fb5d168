"""The registry of resource kinds: one description each, read by the one generic router."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from insights import derived, members
from insights.models import Audience, Destination, Loader, Model, Source, Sync
from insights.schemas import resources as schemas


@dataclass(frozen=True)
class Kind:
    """Everything the generic resource code (routes, service, import) needs to know about
    one kind: its names, table and models, what it refers to, what it derives on read and
    what must happen after one is deleted."""

    path: str
    label: str
    record: str  # the `type` of its lines in an NDJSON import
    table: Any  # a ResourceColumns table class
    create: type[schemas.ResourceCreate]
    update: type[schemas.ResourceUpdate]
    read: type[schemas.ResourceRead]
    statuses: tuple[str, ...]
    # field -> path of the kind it must name (in the same workspace)
    references: dict[str, str] = field(default_factory=dict)
    # model syncs and audience-syncs share the syncs table, told apart by this value
    sync_kind: str | None = None
    # fields derived on read (derived.py); None: the stored columns are all there is
    derive: derived.Derive | None = None
    # run before a delete takes its row lock, in its transaction (the member lock, which
    # member writes take before the audience's)
    before_delete: Callable[[Session, uuid.UUID], object] | None = None
    # run after a delete, in its transaction (an audience's members free their keys)
    after_delete: Callable[[Session, uuid.UUID], object] | None = None

    @property
    def title(self) -> str:
        """The label at the start of a sentence: "Audience-sync 1f2e... does not exist."."""
        return self.label[:1].upper() + self.label[1:]


KINDS: dict[str, Kind] = {
    kind.path: kind
    for kind in (
        Kind(
            "sources",
            "source",
            "source",
            Source,
            schemas.SourceCreate,
            schemas.SourceUpdate,
            schemas.SourceRead,
            ("connected", "error"),
        ),
        Kind(
            "models",
            "model",
            "model",
            Model,
            schemas.ModelCreate,
            schemas.ModelUpdate,
            schemas.ModelRead,
            ("active", "inactive", "error"),
            {"source_id": "sources"},
        ),
        Kind(
            "destinations",
            "destination",
            "destination",
            Destination,
            schemas.DestinationCreate,
            schemas.DestinationUpdate,
            schemas.DestinationRead,
            ("connected", "error"),
        ),
        Kind(
            "audiences",
            "audience",
            "audience",
            Audience,
            schemas.AudienceCreate,
            schemas.AudienceUpdate,
            schemas.AudienceRead,
            ("active", "inactive", "error"),
            {"parent_model_id": "models"},
            derive=derived.latest_evaluations,
            before_delete=members.lock_members,
            # Its evaluations and bitmap went with it; keys nobody uses now may be collected.
            after_delete=members.collect_garbage,
        ),
        Kind(
            "syncs",
            "sync",
            "sync",
            Sync,
            schemas.SyncCreate,
            schemas.SyncUpdate,
            schemas.SyncRead,
            ("active", "paused", "error"),
            {"model_id": "models", "destination_id": "destinations"},
            sync_kind="model",
            derive=derived.last_sync_runs,
        ),
        Kind(
            "audience-syncs",
            "audience-sync",
            "audience_sync",
            Sync,
            schemas.AudienceSyncCreate,
            schemas.AudienceSyncUpdate,
            schemas.AudienceSyncRead,
            ("active", "paused", "error"),
            {"audience_id": "audiences", "destination_id": "destinations"},
            sync_kind="audience",
            derive=derived.last_sync_runs,
        ),
        Kind(
            "loaders",
            "loader",
            "loader",
            Loader,
            schemas.LoaderCreate,
            schemas.LoaderUpdate,
            schemas.LoaderRead,
            ("active", "paused", "error"),
            {"source_id": "sources"},
            derive=derived.last_loader_runs,
        ),
    )
}


def derived_fields(
    session: Session, workspace_id: uuid.UUID, kind: Kind, ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The derived fields of the objects with these ids, by id (none for most kinds)."""
    if kind.derive is None or not ids:
        return {}
    return kind.derive(session, workspace_id, ids)


def referrers(target: Kind) -> list[tuple[Kind, str]]:
    """(kind, field) pairs whose objects may name an object of `target`."""
    return [
        (kind, name)
        for kind in KINDS.values()
        for name, path in kind.references.items()
        if path == target.path
    ]
