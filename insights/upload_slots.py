"""At most N member uploads of a workspace at a time (429 with Retry-After beyond), so that
one workspace's uploads cannot take the capacity every workspace shares. Counted in this
process, or in Redis when it is configured so that every process shares the count (and in
the process again while Redis is unreachable). A Redis slot is a lease its holder renews
while the upload runs: a process that dies holding one frees it within LEASE_SECONDS."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from insights.errors import RateLimited
from insights.shared_store import SharedStore

RETRY_AFTER_SECONDS = 5
LEASE_SECONDS = 60

# Drops expired leases, then takes one if fewer than the limit are held; Redis's clock.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 1)
return 1
"""


class Slot:
    """A slot taken for one upload; `release` gives it back. A shared slot is renewed by a
    thread of its own until then."""

    def __init__(self, release: Callable[[], object], renew: Callable[[], object] | None) -> None:
        self._release = release
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        if renew is not None:
            self._renewer = threading.Thread(
                target=self._renew_every, args=(renew,), name="upload-slot", daemon=True
            )
            self._renewer.start()

    def _renew_every(self, renew: Callable[[], object]) -> None:
        while not self._stop.wait(LEASE_SECONDS / 3):
            renew()

    def release(self) -> None:
        self._stop.set()
        self._release()


class UploadSlots:
    """The uploads each workspace has in progress, at most `limit` at a time."""

    def __init__(self, limit: int, redis_url: str | None = None) -> None:
        self.limit = limit
        self._held: dict[uuid.UUID, int] = {}
        self._lock = threading.Lock()
        self._store = (
            SharedStore(redis_url, "upload slots: each process counts its own")
            if redis_url
            else None
        )
        if self._store is not None:
            self._take_script = self._store.client.register_script(_TAKE)
            self._renew_script = self._store.client.register_script(_RENEW)

    def take(self, workspace_id: uuid.UUID) -> Slot:
        """A slot of the workspace, or 429 when all of them are held."""
        store = self._store
        slot = (
            self._take_local(workspace_id)
            if store is None
            else store.run(
                lambda: self._take_shared(store, workspace_id),
                without=lambda: self._take_local(workspace_id),
            )
        )
        if slot is None:
            raise RateLimited(
                f"Workspace {workspace_id} has {self.limit} member uploads in progress "
                "already; retry when one is done.",
                RETRY_AFTER_SECONDS,
            )
        return slot

    def _take_local(self, workspace_id: uuid.UUID) -> Slot | None:
        with self._lock:
            held = self._held.get(workspace_id, 0)
            if held >= self.limit:
                return None
            self._held[workspace_id] = held + 1
        return Slot(lambda: self._give_back_local(workspace_id), renew=None)

    def _give_back_local(self, workspace_id: uuid.UUID) -> None:
        with self._lock:
            held = self._held.pop(workspace_id, 0) - 1
            if held > 0:
                self._held[workspace_id] = held

    def _take_shared(self, store: SharedStore, workspace_id: uuid.UUID) -> Slot | None:
        key, token = f"insights:uploads:{workspace_id}", uuid.uuid4().hex
        if not self._take_script(keys=[key], args=[self.limit, LEASE_SECONDS, token]):
            return None
        return Slot(
            lambda: store.run(lambda: store.client.zrem(key, token), without=lambda: 0),
            renew=lambda: store.run(
                lambda: self._renew_script(keys=[key], args=[LEASE_SECONDS, token]),
                without=lambda: 0,
            ),
        )
