"""Audience members as roaring bitmaps over dense IDs: encoding, storage, cache, garbage."""

from __future__ import annotations

import threading
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from itertools import islice

import numpy as np
from numpy.typing import NDArray
from pyroaring import AbstractBitMap, BitMap, FrozenBitMap
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from insights.bitmap_reads import read_blobs
from insights.member_encoding import (
    KeyStage,
    delete_ids,
    dictionary_ids,
    lock_next_member_id,
    open_stage,
)
from insights.models import MemberBitmap, MemberKey
from insights.settings import Settings

__all__ = [
    "AbstractBitMap",
    "BitMap",
    "BitmapCache",
    "FrozenBitMap",
    "MemberEncoder",
    "Members",
    "apply_delta",
    "bitmap_cache",
    "change_counts",
    "collect_garbage",
    "configure_bitmap_cache",
    "current_bitmap",
    "current_bitmaps",
    "current_evaluations",
    "encode_keys",
    "load_bitmaps",
    "store_bitmap",
    "union_cache",
    "union_cardinality",
]

# Bitmaps handed out by this module may be frozen (shared through the cache): treat as read-only.
Members = AbstractBitMap
ENCODE_BATCH = 100_000
# Collect unused dictionary keys once they are at least this share of the dictionary.
GC_DEAD_FRACTION = 0.25


class MemberEncoder:
    """Maps batches of validated keys to dense IDs inside the caller's transaction. Use it
    as a context manager: encoding may run in the background (SQLite), and leaving the block
    waits for it, so the caller's session is free to commit or roll back."""

    def __init__(self, session: Session, workspace_id: uuid.UUID, create: bool = True) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.create = create
        self._stage: KeyStage | None = None

    def __enter__(self) -> MemberEncoder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def add(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        if self._stage is None:
            self._stage = open_stage(self.session, self.workspace_id, self.create)
        self._stage.add(keys)

    def finish(self) -> BitMap:
        """The IDs of every key added; unknown keys get new IDs (create) or are skipped."""
        if self._stage is None:
            return BitMap()
        stage, self._stage = self._stage, None
        known, new_ranges = stage.finish()
        bitmap = bitmap_from_ids(known)
        for start, stop in new_ranges:
            bitmap.add_range(start, stop)
        return bitmap

    def close(self) -> None:
        """Waits for encoding in flight and drops what was not finished."""
        if self._stage is not None:
            stage, self._stage = self._stage, None
            stage.close()


def encode_keys(
    session: Session, workspace_id: uuid.UUID, keys: Iterable[str], create: bool = True
) -> BitMap:
    """The IDs of `keys` (validated), in batches."""
    with MemberEncoder(session, workspace_id, create=create) as encoder:
        iterator = iter(keys)
        while batch := list(islice(iterator, ENCODE_BATCH)):
            encoder.add(batch)
        return encoder.finish()


def bitmap_from_ids(ids: NDArray[np.uint32]) -> BitMap:
    """A bitmap from unsorted IDs: a sorted array('I') is the fastest input pyroaring takes."""
    ids = np.sort(ids.astype(np.uint32, copy=False))
    values = array("I")
    values.frombytes(ids.tobytes())
    return BitMap(values)


def apply_delta(base: AbstractBitMap, added: AbstractBitMap, removed: AbstractBitMap) -> BitMap:
    """`base` without `removed`, plus `added` (a key in both lists ends up a member)."""
    return BitMap(base.difference(removed).union(added))


def change_counts(old: AbstractBitMap, new: AbstractBitMap) -> tuple[int, int]:
    """(members added, members removed) from `old` to `new`."""
    return new.difference_cardinality(old), old.difference_cardinality(new)


class BitmapCache:
    """Deserialised bitmaps by (workspace, evaluation): immutable, so only the byte bound
    (their serialised size) evicts, least recently used first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[tuple[uuid.UUID, uuid.UUID], tuple[FrozenBitMap, int]]
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[uuid.UUID, uuid.UUID]) -> FrozenBitMap | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: tuple[uuid.UUID, uuid.UUID], bitmap: FrozenBitMap, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self.bytes += size - (old[1] if old else 0)
            self._entries[key] = (bitmap, size)
            while self.bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.bytes -= evicted

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


class CountCache:
    """Counts by a key naming the immutable inputs they came from, so they never go stale;
    the least recently used beyond `max_entries` go."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, int] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> int | None:
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, count: int) -> None:
        with self._lock:
            self._entries[key] = count
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


bitmap_cache = BitmapCache(Settings.model_fields["bitmap_cache_bytes"].default)
# Unions of many audiences (the summary's total_members), by workspace and evaluation set.
union_cache = CountCache(1024)


def configure_bitmap_cache(max_bytes: int) -> None:
    """Sets the process's cache bound (Settings.bitmap_cache_bytes), dropping what is cached."""
    bitmap_cache.max_bytes = max_bytes
    bitmap_cache.clear()
    union_cache.clear()


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
    bitmap_cache.put((workspace_id, evaluation_id), frozen, len(data))


def current_bitmaps(
    session: Session, workspace_id: uuid.UUID, audience_ids: Sequence[uuid.UUID] | None
) -> dict[uuid.UUID, tuple[uuid.UUID, FrozenBitMap]]:
    """audience id -> (evaluation id, members) for those of `audience_ids` (None: every
    audience) that have a member list."""
    return _load(session, workspace_id, current_evaluations(session, workspace_id, audience_ids))


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
    found: dict[uuid.UUID, tuple[uuid.UUID, FrozenBitMap]] = {}
    missing: list[uuid.UUID] = []
    for audience_id, evaluation_id in evaluations.items():
        cached = bitmap_cache.get((workspace_id, evaluation_id))
        if cached is None:
            missing.append(audience_id)
        else:
            found[audience_id] = (evaluation_id, cached)
    # A list replaced meanwhile comes back newer than `evaluations` says (see read_blobs).
    for audience_id, evaluation_id, data in read_blobs(session, workspace_id, missing):
        bitmap = FrozenBitMap.deserialize(data)
        bitmap_cache.put((workspace_id, evaluation_id), bitmap, len(data))
        found[audience_id] = (evaluation_id, bitmap)
    return found


def current_bitmap(
    session: Session, workspace_id: uuid.UUID, audience_id: uuid.UUID
) -> tuple[uuid.UUID, FrozenBitMap] | None:
    """(evaluation id, members) of the audience's latest member evaluation, or None."""
    return current_bitmaps(session, workspace_id, [audience_id]).get(audience_id)


def union_cardinality(
    session: Session, workspace_id: uuid.UUID, audience_ids: list[uuid.UUID]
) -> tuple[int, list[uuid.UUID]]:
    """(distinct members across the audiences' current members, the audiences among them
    that have no member list). The count is cached by the set of evaluations it came from,
    which never changes, beside the bitmaps (and only while they may be cached)."""
    evaluations = current_evaluations(session, workspace_id, audience_ids)
    known = union_cache.get((workspace_id, frozenset(evaluations.values())))
    if known is None:
        found = _load(session, workspace_id, evaluations)
        evaluations = {audience: evaluation for audience, (evaluation, _) in found.items()}
        known = len(BitMap().union(*(bitmap for _, bitmap in found.values())))
        if bitmap_cache.max_bytes:
            union_cache.put((workspace_id, frozenset(evaluations.values())), known)
    without = [audience_id for audience_id in audience_ids if audience_id not in evaluations]
    return known, without


def collect_garbage(
    session: Session, workspace_id: uuid.UUID, min_dead_fraction: float = GC_DEAD_FRACTION
) -> int:
    """Deletes dictionary keys that no audience's current members use, once they are at
    least `min_dead_fraction` of the dictionary; returns how many were deleted.

    Under the workspace row lock that encoding takes, so a key cannot go between being
    looked up and its bitmap being stored. Every live ID is in the dictionary (only this
    deletes keys), so the count minus the live IDs is the number of dead keys."""
    lock_next_member_id(session, workspace_id)
    bitmaps = [bitmap for _, bitmap in current_bitmaps(session, workspace_id, None).values()]
    live = BitMap().union(*bitmaps)
    total = session.execute(
        select(func.count()).select_from(MemberKey).where(MemberKey.workspace_id == workspace_id)
    ).scalar_one()
    dead = total - len(live)
    if dead <= 0 or dead < min_dead_fraction * total:
        return 0
    everything = bitmap_from_ids(dictionary_ids(session, workspace_id))
    unused = np.frombuffer(everything.difference(live).to_array(), dtype=np.uint32)
    return delete_ids(session, workspace_id, unused)
