"""Reading an audience's stored member list in the tests."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from insights import members
from insights.members import FrozenBitMap


def current_members(
    session: Session, workspace_id: uuid.UUID, audience_id: uuid.UUID
) -> tuple[uuid.UUID, FrozenBitMap]:
    """(evaluation id, members) of the audience's current member list, which it must have."""
    current = members.current_bitmap(session, workspace_id, audience_id)
    assert current is not None, f"audience {audience_id} has no member list"
    return current
