"""What a process keeps of members between requests: decoded bitmaps and union counts,
both keyed by the immutable evaluations they came from, so neither ever goes stale. The
caches belong to the app (built in create_app) and reach the code through the session."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from pyroaring import FrozenBitMap
from sqlalchemy.orm import Session

from insights import metrics
from insights.lru import LruDict
from insights.members.reads import PARALLEL_READS, ParallelReads

# session.info key under which a session carries the process's MemberCaches.
MEMBER_CACHES = "member_caches"
UNION_ENTRIES = 1024


class BitmapCache:
    """Deserialised bitmaps by (workspace, evaluation): immutable, so only the byte bound
    (their serialised size) evicts, least recently used first. Its hits, misses and bytes
    go to the process's metrics (the bytes of every cache of the process added up)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[tuple[uuid.UUID, uuid.UUID], tuple[FrozenBitMap, int]]
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[uuid.UUID, uuid.UUID]) -> FrozenBitMap | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        metrics.count_bitmap_read(hit=entry is not None)
        return None if entry is None else entry[0]

    def put(self, key: tuple[uuid.UUID, uuid.UUID], bitmap: FrozenBitMap, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            before = self.bytes
            old = self._entries.pop(key, None)
            self.bytes += size - (old[1] if old else 0)
            self._entries[key] = (bitmap, size)
            while self.bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.bytes -= evicted
            metrics.add_cached_bytes(self.bytes - before)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            metrics.add_cached_bytes(-self.bytes)
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


class CountCache(LruDict[Hashable, int]):
    """Counts by a key naming the immutable inputs they came from, so they never go stale;
    the least recently used beyond `max_entries` go."""


@dataclass(frozen=True)
class MemberCaches:
    """The bitmap cache (bounded in bytes) and the union counts computed from it; a union
    count is kept only while bitmaps may be cached (a bound of 0 turns both off)."""

    bitmaps: BitmapCache
    unions: CountCache

    @classmethod
    def sized(cls, max_bytes: int) -> MemberCaches:
        return cls(BitmapCache(max_bytes), CountCache(UNION_ENTRIES if max_bytes else 0))

    def clear(self) -> None:
        self.bitmaps.clear()
        self.unions.clear()


# What a session without the app's caches uses: holds nothing.
NO_CACHES = MemberCaches.sized(0)


def session_info(caches: MemberCaches, parallel: ParallelReads | None = None) -> dict[str, object]:
    """The `info` a session factory gives its sessions so that this package finds the
    app's caches (and, for read sessions, its extra bitmap-read connections)."""
    info: dict[str, object] = {MEMBER_CACHES: caches}
    if parallel is not None:
        info[PARALLEL_READS] = parallel
    return info


def caches_of(session: Session) -> MemberCaches:
    """The caches the session's factory was configured with (insights.db.make_sessionmakers)."""
    caches: MemberCaches = session.info.get(MEMBER_CACHES, NO_CACHES)
    return caches
