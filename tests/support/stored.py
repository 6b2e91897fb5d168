"""What a test reads back from the database to check a state against its model: an audience's
current member keys, rows no rule allows, keys a bitmap names but the dictionary lost."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select

from insights import members
from insights.models import LoaderRun, MemberBitmap, MemberKey, SyncRun
from tests.support.databases import Database

FINISHED = ("completed", "failed", "cancelled")


def member_keys(db: Database, workspace_id: uuid.UUID, audience_id: Any) -> set[str] | None:
    """The keys of the audience's current members, or None when it has no member list."""
    with db.session() as session:
        current = members.current_bitmap(session, workspace_id, uuid.UUID(str(audience_id)))
        if current is None:
            return None
        ids = set(current[1])
        query = select(MemberKey.member_id, MemberKey.key).where(
            MemberKey.workspace_id == workspace_id
        )
        dictionary = dict(session.execute(query).tuples().all())
    missing = ids - dictionary.keys()
    assert not missing, f"bitmap IDs not in the dictionary: {sorted(missing)[:5]}"
    return {dictionary[member_id] for member_id in ids}


def dangling_member_ids(db: Database, workspace_id: uuid.UUID) -> set[int]:
    """IDs some audience's current members use that the dictionary does not hold."""
    with db.session() as session:
        bitmaps = members.current_bitmaps(session, workspace_id, None)
        used = members.union(bitmap for _, bitmap in bitmaps.values())
        query = select(MemberKey.member_id).where(MemberKey.workspace_id == workspace_id)
        known = set(session.scalars(query))
        stored = session.scalars(
            select(MemberBitmap.audience_id).where(MemberBitmap.workspace_id == workspace_id)
        ).all()
    assert len(stored) == len(set(stored)), "an audience with two stored member lists"
    return set(used) - known


def invalid_runs(db: Database) -> list[tuple[str, Any, Any, Any]]:
    """(status, started_at, completed_at, id) of every run that breaks the timeline rule."""
    found = []
    with db.session() as session:
        for table in (SyncRun, LoaderRun):
            unfinished = table.status.not_in(FINISHED)
            query = select(table.status, table.started_at, table.completed_at, table.id).where(
                or_(
                    unfinished & table.completed_at.is_not(None),
                    ~unfinished & table.completed_at.is_(None),
                    table.completed_at < table.started_at,
                )
            )
            found += [tuple(row) for row in session.execute(query)]
    return found
