"""The registry of resource kinds: one description each, read by the one generic router."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from insights.models import Audience, Destination, Loader, Model, Source, Sync
from insights.schemas import resources as schemas


@dataclass(frozen=True)
class Kind:
    """Everything the generic resource code needs to know about one kind."""

    path: str
    label: str
    table: Any  # a ResourceColumns table class
    create: type[schemas.ResourceCreate]
    update: type[schemas.ResourceUpdate]
    read: type[schemas.ResourceRead]
    statuses: tuple[str, ...]
    # field -> path of the kind it must name (in the same workspace)
    references: dict[str, str] = field(default_factory=dict)
    # model syncs and audience-syncs share the syncs table, told apart by this value
    sync_kind: str | None = None

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
            Source,
            schemas.SourceCreate,
            schemas.SourceUpdate,
            schemas.SourceRead,
            ("connected", "error"),
        ),
        Kind(
            "models",
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
            Destination,
            schemas.DestinationCreate,
            schemas.DestinationUpdate,
            schemas.DestinationRead,
            ("connected", "error"),
        ),
        Kind(
            "audiences",
            "audience",
            Audience,
            schemas.AudienceCreate,
            schemas.AudienceUpdate,
            schemas.AudienceRead,
            ("active", "inactive", "error"),
            {"parent_model_id": "models"},
        ),
        Kind(
            "syncs",
            "sync",
            Sync,
            schemas.SyncCreate,
            schemas.SyncUpdate,
            schemas.SyncRead,
            ("active", "paused", "error"),
            {"model_id": "models", "destination_id": "destinations"},
            sync_kind="model",
        ),
        Kind(
            "audience-syncs",
            "audience-sync",
            Sync,
            schemas.AudienceSyncCreate,
            schemas.AudienceSyncUpdate,
            schemas.AudienceSyncRead,
            ("active", "paused", "error"),
            {"audience_id": "audiences", "destination_id": "destinations"},
            sync_kind="audience",
        ),
        Kind(
            "loaders",
            "loader",
            Loader,
            schemas.LoaderCreate,
            schemas.LoaderUpdate,
            schemas.LoaderRead,
            ("active", "paused", "error"),
            {"source_id": "sources"},
        ),
    )
}


def referrers(target: Kind) -> list[tuple[Kind, str]]:
    """(kind, field) pairs whose objects may name an object of `target`."""
    return [
        (kind, name)
        for kind in KINDS.values()
        for name, path in kind.references.items()
        if path == target.path
    ]
