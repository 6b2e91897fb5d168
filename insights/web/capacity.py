"""How many requests a process runs against the database at once, and the queue the others
wait in: sized from the connection pool so that requests queue instead of deadlocking.

A request holds its pooled connection from its key check to its commit, across several
worker-thread calls, and gives its thread back between them. Bounding the threads alone
therefore bounds nothing: 40 requests could each hold a connection and wait for a thread
while 40 threads wait for a connection. So a request takes a *session slot* (on the event
loop, before any thread or connection) for as long as it holds its session; the slots are
fewer than the connections, and the threads at least as many as the slots."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.to_thread

from insights.errors import ServiceUnavailable
from insights.settings import Settings

# Connections taken beside the request slots: the alert worker's pass and its delivery, the
# evaluation queue after writes, a /metrics scrape (it counts firing alerts), and one more.
# (A key's last-use stamp takes none of the pool's since insights.web.key_use: it is written
# in the request's own session, or on SQLite through a connection outside the pool.)
RESERVED_CONNECTIONS = 5
# Threads beyond the slots: for work that holds no session (upload parsing, the readiness
# probe, the dashboard's static work), so that it never waits behind the reports.
SPARE_THREADS = 4
BUSY_RETRY_SECONDS = 1


@dataclass(frozen=True)
class Capacity:
    """connections: the pool's bound; slots: requests holding a session at once; threads:
    the worker-thread limit of the process's event loop."""

    connections: int
    slots: int
    threads: int

    @classmethod
    def sized(cls, settings: Settings) -> Capacity:
        connections = 2 * settings.db_pool_size  # pool_size plus as many overflow
        slots = max(1, connections - RESERVED_CONNECTIONS)
        threads = settings.request_threads or slots + SPARE_THREADS
        return cls(connections, min(slots, threads), threads)


def limit_threads(threads: int) -> None:
    """Sets the worker-thread limit of the running event loop (anyio's default is 40)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


class SessionSlots:
    """At most `slots` requests hold a database session at once; the others wait in a FIFO
    queue on the event loop, at most `queue_seconds` (then 503 busy with Retry-After).

    One limiter per event loop: a limiter belongs to the loop it was made on, and a test
    client runs the app on loops of its own."""

    def __init__(self, slots: int, queue_seconds: float) -> None:
        self.slots, self.queue_seconds = slots, queue_seconds
        self.waiting = 0  # requests queued for a slot now, on every loop
        self._limiters: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, anyio.CapacityLimiter
        ] = weakref.WeakKeyDictionary()

    def _limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.slots)
        return limiter

    def in_use(self) -> int:
        """Slots taken on the running loop (for the metrics and tests)."""
        return int(self._limiter().borrowed_tokens)

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """A slot for the block; 503 busy when none frees up within `queue_seconds`."""
        limiter, borrower = self._limiter(), object()  # a borrower of its own: not the task
        acquired = False
        self.waiting += 1
        try:
            with anyio.move_on_after(self.queue_seconds):
                await limiter.acquire_on_behalf_of(borrower)
                acquired = True
        finally:
            self.waiting -= 1
        if not acquired:
            raise ServiceUnavailable(
                "Every database session of this process is in use; retry shortly.",
                BUSY_RETRY_SECONDS,
            )
        try:
            yield
        finally:
            limiter.release_on_behalf_of(borrower)
