"""The process's cache of Insights response bytes, keyed by (workspace, report, parsed
parameters, the workspace's data version as read before computing).

A write bumps the version in its own transaction (insights.data_version), so an entry is
never older than a write its reader could have seen: the next request reads the new version
and misses. What time alone changes (a window's edge, a health score, "today") is not a
write: an entry is served for at most `max_age` seconds after its computation ended, so such
changes show up that late at most, plus the time the computation took. Bounded in bytes,
least recently used out first. Requests that miss on the same key at once share one
computation."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass

from insights import metrics
from insights.concurrency import run_blocking


@dataclass(frozen=True)
class ReportKey:
    """What an answer depends on besides the clock."""

    workspace_id: uuid.UUID
    report: str  # the endpoint's name: a metrics label, never an ID
    parameters: tuple[Hashable, ...]
    version: int


@dataclass(frozen=True)
class _Entry:
    body: bytes
    born: float  # the cache's clock when its computation ended


class ReportCache:
    """Response bodies by ReportKey, at most `max_bytes` of them, each for `max_age` s."""

    def __init__(
        self, max_bytes: int, max_age: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes, self.max_age = max_bytes, max_age
        self.clock = clock  # seconds, only ever compared with itself
        self._entries: OrderedDict[ReportKey, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._computing: dict[ReportKey, asyncio.Future[bytes]] = {}

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0 and self.max_age > 0

    async def answer(
        self,
        key: ReportKey,
        compute: Callable[[], bytes],
        gate: Callable[[], AbstractAsyncContextManager[None]] = nullcontext,
    ) -> bytes:
        """The cached body of `key`, else `compute()`'s, run on a worker thread inside
        `gate` (a session slot: computing takes a connection) once for all the requests
        that ask for it meanwhile, and kept."""
        if not self.enabled:
            async with gate():
                return await run_blocking(compute)
        body = self.get(key)
        if body is None:
            body = await self._shared(key)
        if body is not None:
            metrics.count_report_read(key.report, cached=True)
            return body
        metrics.count_report_read(key.report, cached=False)
        return await self._compute(key, compute, gate)

    def get(self, key: ReportKey) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self.clock() - entry.born > self.max_age:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry.body

    def clear(self) -> None:
        with self._lock:
            while self._entries:
                self._drop(next(iter(self._entries)))

    def put(self, key: ReportKey, body: bytes, born: float) -> None:
        if len(body) > self.max_bytes // 4:
            return  # one answer may not push out most of the others
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = _Entry(body, born)
            self._add_bytes(len(body))
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    async def _shared(self, key: ReportKey) -> bytes | None:
        """The body another request is computing for `key`, when one is."""
        computing = self._computing.get(key)
        if computing is None:
            return None
        try:
            return await asyncio.shield(computing)
        except asyncio.CancelledError:
            if computing.cancelled():
                return None  # its request was cancelled: compute it here instead
            raise

    async def _compute(
        self,
        key: ReportKey,
        compute: Callable[[], bytes],
        gate: Callable[[], AbstractAsyncContextManager[None]],
    ) -> bytes:
        computing = asyncio.get_running_loop().create_future()
        self._computing[key] = computing
        try:
            async with gate():
                body = await run_blocking(compute)
        except Exception as exc:
            computing.set_exception(exc)
            computing.exception()  # read here, so an error nobody waited for is not logged
            raise
        except BaseException:
            computing.cancel()
            raise
        finally:
            del self._computing[key]
        computing.set_result(body)
        # Aged from the end of its computation: one that takes longer than max_age (a
        # report over millions of rows on a busy machine) is still served max_age seconds.
        self.put(key, body, self.clock())
        return body

    def _drop(self, key: ReportKey) -> None:
        entry = self._entries.pop(key)
        self._add_bytes(-len(entry.body))

    def _add_bytes(self, delta: int) -> None:
        self._bytes += delta
        metrics.add_report_cache_bytes(delta)
