"""Collecting dictionary keys that no audience's current members use any more."""

from __future__ import annotations

import uuid

import numpy as np
from sqlalchemy.orm import Session

from insights.members.bitmaps import bitmap_from_ids, union
from insights.members.dictionary import (
    delete_ids,
    dictionary_ids,
    dictionary_size,
    lock_members,
)
from insights.members.storage import current_bitmaps

# Collect unused dictionary keys once they are at least this share of the dictionary.
GC_DEAD_FRACTION = 0.25


def collect_garbage(
    session: Session, workspace_id: uuid.UUID, min_dead_fraction: float = GC_DEAD_FRACTION
) -> int:
    """Deletes dictionary keys that no audience's current members use, once they are at
    least `min_dead_fraction` of the dictionary; returns how many were deleted.

    Under the member lock (lock_members) that every member write takes before it reads, so
    a key cannot go between being looked up and its bitmap being stored. Every live ID is in
    the dictionary (only this deletes keys), so its size minus the live IDs is the number of
    dead keys. The size is the workspace's stored count: counting the rows took 0.6 s (SQLite)
    to 1.3 s (PostgreSQL) at 10M keys, on every upload however small."""
    lock_members(session, workspace_id)
    live = union(bitmap for _, bitmap in current_bitmaps(session, workspace_id, None).values())
    total = dictionary_size(session, workspace_id)
    dead = total - len(live)
    if dead <= 0 or dead < min_dead_fraction * total:
        return 0
    everything = bitmap_from_ids(dictionary_ids(session, workspace_id))
    unused = np.frombuffer(everything.difference(live).to_array(), dtype=np.uint32)
    return delete_ids(session, workspace_id, unused)
