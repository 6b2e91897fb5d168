"""Parsing and checking the raw query-string values the reports take."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any, Literal, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.errors import BadRequest, NotFound
from insights.models import Audience, Sync
from insights.reports.common import by_name
from insights.types import parse_uuid

MIN_DAYS = 1
MAX_DAYS = 365
# Contract 8: the window of sync-duration, -throughput, -sla, audience-velocity and the
# sync detail when the request names none.
OBSERVABILITY_DAYS = 30

_DIGITS = re.compile(r"[0-9]+")


def parse_days(raw: str | None, default: int, name: str = "days") -> int:
    """The `days` parameter: a whole number from 1 to 365; `default` when absent."""
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not MIN_DAYS <= int(raw) <= MAX_DAYS:
        raise BadRequest(
            f"The {name} parameter must be a whole number from {MIN_DAYS} to {MAX_DAYS}, "
            f"not {raw!r}."
        )
    return int(raw)


@overload
def parse_audience_ids(
    raw: str | None,
    *,
    required: Literal[True],
    min_count: int = ...,
    max_count: int | None = ...,
    allow_repeats: bool = ...,
    name: str = ...,
) -> list[uuid.UUID]: ...


@overload
def parse_audience_ids(
    raw: str | None,
    *,
    required: bool = ...,
    min_count: int = ...,
    max_count: int | None = ...,
    allow_repeats: bool = ...,
    name: str = ...,
) -> list[uuid.UUID] | None: ...


def parse_audience_ids(
    raw: str | None,
    *,
    required: bool = False,
    min_count: int = 1,
    max_count: int | None = None,
    allow_repeats: bool = True,
    name: str = "audience_ids",
) -> list[uuid.UUID] | None:
    """Comma-separated UUIDs, in the order given; None when absent and not required.

    An empty value counts as absent. With `allow_repeats` a repeated ID is kept once, at
    its first position; without it a repeat is a 400. The counts apply to distinct IDs."""
    if raw is None or not raw.strip():
        if required:
            raise BadRequest(f"The {name} parameter is required.")
        return None
    ids: dict[uuid.UUID, None] = {}  # insertion-ordered set
    for part in raw.split(","):
        value = parse_uuid(part.strip(), f"{name} parameter")
        if value in ids and not allow_repeats:
            raise BadRequest(f"The {name} parameter lists {value} more than once.")
        ids.setdefault(value)
    _check_count(len(ids), min_count, max_count, name)
    return list(ids)


def _check_count(count: int, min_count: int, max_count: int | None, name: str) -> None:
    if count < min_count:
        raise BadRequest(f"The {name} parameter needs at least {min_count} distinct IDs.")
    if max_count is not None and count > max_count:
        raise BadRequest(f"The {name} parameter takes at most {max_count} IDs.")


def load_audiences(
    session: Session, workspace_id: uuid.UUID, audience_ids: Sequence[uuid.UUID]
) -> list[Audience]:
    """The workspace's audiences with these IDs, in the order given.

    A 404 names the first ID (in that order) that is unknown or belongs to another
    workspace; the message does not say which, so no workspace learns of another's IDs."""
    found = session.scalars(
        select(Audience).where(
            Audience.workspace_id == workspace_id, Audience.id.in_(list(audience_ids))
        )
    )
    by_id = {audience.id: audience for audience in found}
    for audience_id in audience_ids:
        if audience_id not in by_id:
            raise NotFound(f"Audience {audience_id} does not exist.")
    return [by_id[audience_id] for audience_id in audience_ids]


def parse_min_count(raw: str | None) -> int | None:
    """The optional `min_count`: a whole number of at least 1."""
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw) or int(raw) < 1:
        raise BadRequest(
            f"The min_count parameter must be a whole number of at least 1, not {raw!r}."
        )
    return int(raw)


def parse_sync_ids(raw: str | None) -> list[uuid.UUID] | None:
    """The optional `sync_ids` (contract 8): as audience_ids, a repeat kept once."""
    return parse_audience_ids(raw, name="sync_ids")


def selected(
    session: Session,
    workspace_id: uuid.UUID,
    table: Any,
    ids: Sequence[uuid.UUID] | None,
    *columns: Any,
) -> list[Any]:
    """(id, name, *columns) rows of the workspace's syncs or audiences: those of `ids` in
    the order given (a repeat once; a 404 names the first unknown ID, which may be another
    workspace's), or all of them by name then ID."""
    query = select(table.id, table.name, *columns).where(table.workspace_id == workspace_id)
    if ids is None:
        return by_name(session.execute(query))
    wanted = list(dict.fromkeys(ids))
    by_id = {row.id: row for row in session.execute(query.where(table.id.in_(wanted)))}
    label = "Sync" if table is Sync else "Audience"
    for object_id in wanted:
        if object_id not in by_id:
            raise NotFound(f"{label} {object_id} does not exist.")
    return [by_id[object_id] for object_id in wanted]
