"""Workspaces' time zones as the database keeps them for the local-day rollups
(sync_local_days, migration 0010): the zone as pieces of constant UTC offset, which the run
triggers read to find a run's local day, written whenever a workspace is made or its zone
changes (an ORM hook on Workspace, so every writer does it); a changed zone rebuilds the
workspace's local days from its runs in the same transaction (a trigger on its zone row)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from insights.models import Workspace, WorkspaceUtcOffset, WorkspaceZone

FIRST_BEGINS = -(2**62)  # the first piece reaches back before any timestamp
# The span whose transitions are stored: runs outside it get the offset at its nearest end.
SPAN_START = datetime(1970, 1, 1, tzinfo=UTC)
SPAN_END = datetime(2100, 1, 1, tzinfo=UTC)
# No zone changes its offset and back within a day: checked against the 6-hour steps of
# reports.common.utc_offsets for every zone over 1975-2040 (the same pieces, 2026-12-01).
STEP = timedelta(days=1)

Pieces = tuple[tuple[int, int], ...]


@lru_cache(maxsize=64)
def zone_pieces(name: str) -> Pieces:
    """The zone's (begins epoch second, offset seconds) pieces over SPAN, the first from
    FIRST_BEGINS: a day at a time, each change found to its second by bisection. Cached:
    about 0.1 s of CPU per zone."""
    zone = ZoneInfo(name)

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    pieces = [(FIRST_BEGINS, offset(SPAN_START))]
    moment = SPAN_START
    while moment < SPAN_END:
        following = moment + STEP
        now_offset = offset(following)
        if now_offset != pieces[-1][1]:
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == now_offset:
                    high = middle
                else:
                    low = middle
            pieces.append((int(high.timestamp()), now_offset))
        moment = following
    return tuple(pieces)


def keep_zone(connection: Connection, workspace_id: uuid.UUID, name: str) -> None:
    """Store `name` as the workspace's kept zone, unless it already is: its pieces, then
    its zone row (whose update makes the workspace's local days again, migration 0010)."""
    kept = select(WorkspaceZone.timezone).where(WorkspaceZone.workspace_id == workspace_id)
    if connection.scalar(kept) == name:
        return
    pieces = zone_pieces(name)
    connection.execute(
        delete(WorkspaceUtcOffset).where(WorkspaceUtcOffset.workspace_id == workspace_id)
    )
    connection.execute(
        insert(WorkspaceUtcOffset),
        [{"workspace_id": workspace_id, "begins": b, "offset_seconds": o} for b, o in pieces],
    )
    seconds = [offset for _, offset in pieces]
    row = {"timezone": name, "min_offset": min(seconds), "max_offset": max(seconds)}
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(WorkspaceZone).values(workspace_id=workspace_id, **row)
    connection.execute(
        statement.on_conflict_do_update(index_elements=[WorkspaceZone.workspace_id], set_=row)
    )


@event.listens_for(Workspace, "after_insert")
def _zone_of_new_workspace(_mapper: Any, connection: Connection, workspace: Workspace) -> None:
    keep_zone(connection, workspace.id, workspace.timezone)


@event.listens_for(Workspace, "after_update")
def _zone_changed(_mapper: Any, connection: Connection, workspace: Workspace) -> None:
    if inspect(workspace).attrs.timezone.history.added:
        keep_zone(connection, workspace.id, workspace.timezone)
