"""Audiences' current member lists as stored bitmaps: writing one, reading them back
through the process's cache, and counting their union."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from pyroaring import AbstractBitMap, FrozenBitMap
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from insights import data_version
from insights.members.bitmaps import union
from insights.members.cache import caches_of
from insights.members.reads import read_blobs
from insights.models import MemberBitmap


def store_bitmap(
    session: Session,
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    evaluation_id: uuid.UUID,
    bitmap: AbstractBitMap,
) -> None:
    """Makes `bitmap` the audience's stored members, deleting its previous blob."""
    frozen = FrozenBitMap(bitmap)
    frozen.run_optimize()
    data = frozen.serialize()
    session.execute(
        delete(MemberBitmap).where(
            MemberBitmap.workspace_id == workspace_id, MemberBitmap.audience_id == audience_id
        )
    )
    session.execute(
        insert(MemberBitmap).values(
            workspace_id=workspace_id,
            evaluation_id=evaluation_id,
            audience_id=audience_id,
            data=data,
        )
    )
    data_version.note_write(session, workspace_id)
    caches_of(session).bitmaps.put((workspace_id, evaluation_id), frozen, len(data))


def current_bitmaps(
    session: Session, workspace_id: uuid.UUID, audience_ids: Sequence[uuid.UUID] | None
) -> dict[uuid.UUID, tuple[uuid.UUID, FrozenBitMap]]:
    """audience id -> (evaluation id, members) for those of `audience_ids` (None: every
    audience) that have a member list."""
    return _load(session, workspace_id, current_evaluations(session, workspace_id, audience_ids))


def current_bitmap(
    session: Session, workspace_id: uuid.UUID, audience_id: uuid.UUID
) -> tuple[uuid.UUID, FrozenBitMap] | None:
    """(evaluation id, members) of the audience's latest member evaluation, or None."""
    return current_bitmaps(session, workspace_id, [audience_id]).get(audience_id)


def current_evaluations(
    session: Session, workspace_id: uuid.UUID, audience_ids: Sequence[uuid.UUID] | None
) -> dict[uuid.UUID, uuid.UUID]:
    """audience id -> the evaluation its stored member list came from."""
    query = select(MemberBitmap.audience_id, MemberBitmap.evaluation_id).where(
        MemberBitmap.workspace_id == workspace_id
    )
    if audience_ids is not None:
        query = query.where(MemberBitmap.audience_id.in_(list(audience_ids)))
    return dict(session.execute(query).tuples().all())


def load_bitmaps(
    session: Session, workspace_id: uuid.UUID, evaluations: dict[uuid.UUID, uuid.UUID]
) -> dict[uuid.UUID, FrozenBitMap]:
    """audience id -> members, given each audience's current evaluation id (a caller that
    already has those ids saves a query); cached bitmaps are not read again. An audience
    deleted since its evaluation was looked up is left out."""
    loaded = _load(session, workspace_id, evaluations)
    return {audience: bitmap for audience, (_, bitmap) in loaded.items()}


def _load(
    session: Session, workspace_id: uuid.UUID, evaluations: dict[uuid.UUID, uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, FrozenBitMap]]:
    cache = caches_of(session).bitmaps
    found: dict[uuid.UUID, tuple[uuid.UUID, FrozenBitMap]] = {}
    missing: list[uuid.UUID] = []
    for audience_id, evaluation_id in evaluations.items():
        cached = cache.get((workspace_id, evaluation_id))
        if cached is None:
            missing.append(audience_id)
        else:
            found[audience_id] = (evaluation_id, cached)
    # A list replaced meanwhile comes back newer than `evaluations` says (see read_blobs).
    for audience_id, evaluation_id, data in read_blobs(session, workspace_id, missing):
        bitmap = FrozenBitMap.deserialize(data)
        cache.put((workspace_id, evaluation_id), bitmap, len(data))
        found[audience_id] = (evaluation_id, bitmap)
    return found


def union_cardinality(
    session: Session, workspace_id: uuid.UUID, audience_ids: list[uuid.UUID]
) -> tuple[int, list[uuid.UUID]]:
    """(distinct members across the audiences' current members, the audiences among them
    that have no member list). The count is cached by the set of evaluations it came from,
    which never changes, beside the bitmaps (and only while they may be cached)."""
    unions = caches_of(session).unions
    evaluations = current_evaluations(session, workspace_id, audience_ids)
    known = unions.get((workspace_id, frozenset(evaluations.values())))
    if known is None:
        found = _load(session, workspace_id, evaluations)
        evaluations = {audience: evaluation for audience, (evaluation, _) in found.items()}
        known = len(union(bitmap for _, bitmap in found.values()))
        unions.put((workspace_id, frozenset(evaluations.values())), known)
    without = [audience_id for audience_id in audience_ids if audience_id not in evaluations]
    return known, without
