"""Per-workspace rate limits: sliding windows of one second and one minute, kept in the
process or, when Redis is configured, in Redis so that every process shares them."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import deque
from typing import Any, Protocol

from insights.shared_store import SharedStore

# Both windows over one sorted set of request times; Redis's own clock keeps processes
# on different machines in agreement. Returns nil when admitted, else seconds to wait.
_REDIS_SCRIPT = """
local key = KEYS[1]
local per_minute = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - 60)
if per_minute > 0 then
  local n = redis.call('ZCARD', key)
  if n >= per_minute then
    local oldest = redis.call('ZRANGE', key, n - per_minute, n - per_minute, 'WITHSCORES')
    return tostring(tonumber(oldest[2]) + 60 - now)
  end
end
if per_second > 0 then
  local recent = redis.call('ZRANGEBYSCORE', key, '(' .. (now - 1), '+inf', 'WITHSCORES')
  local n = #recent / 2
  if n >= per_second then
    return tostring(tonumber(recent[(n - per_second) * 2 + 2]) + 1 - now)
  end
end
redis.call('ZADD', key, now, ARGV[3])
redis.call('EXPIRE', key, 61)
return false
"""


class RateLimiter(Protocol):
    # True when a check goes over the network (Redis): call it from a worker thread.
    remote: bool

    def check(self, workspace_id: uuid.UUID) -> int | None:
        """None when the request is admitted (and counted), else seconds to wait."""


def _wait(seconds: float) -> int:
    return max(1, math.ceil(seconds))


class LocalRateLimiter:
    """Sliding windows in this process: right for a single process only."""

    remote = False

    def __init__(self, per_minute: int, per_second: int) -> None:
        self.per_minute = per_minute
        self.per_second = per_second
        self._times: dict[uuid.UUID, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, workspace_id: uuid.UUID) -> int | None:
        now = time.monotonic()
        with self._lock:
            times = self._times.setdefault(workspace_id, deque())
            while times and times[0] <= now - 60:
                times.popleft()
            if self.per_minute and len(times) >= self.per_minute:
                return _wait(times[len(times) - self.per_minute] + 60 - now)
            if self.per_second:
                recent = [t for t in times if t > now - 1]
                if len(recent) >= self.per_second:
                    return _wait(recent[len(recent) - self.per_second] + 1 - now)
            times.append(now)
            return None


class RedisRateLimiter:
    """Sliding windows in Redis, shared by every process of the service. A limiter that is
    down must not take the service down with it: without Redis, requests are admitted."""

    remote = True

    def __init__(self, url: str, per_minute: int, per_second: int) -> None:
        self.per_minute = per_minute
        self.per_second = per_second
        self._store = SharedStore(url, "rate limits: requests are admitted")
        self._script = self._store.client.register_script(_REDIS_SCRIPT)

    def check(self, workspace_id: uuid.UUID) -> int | None:
        wait = self._store.run(lambda: self._count(workspace_id), without=lambda: None)
        return None if wait is None else _wait(float(wait))

    def _count(self, workspace_id: uuid.UUID) -> Any:
        return self._script(
            keys=[f"insights:ratelimit:{workspace_id}"],
            args=[self.per_minute, self.per_second, uuid.uuid4().hex],
        )


class NoRateLimiter:
    remote = False

    def check(self, workspace_id: uuid.UUID) -> int | None:
        return None


def make_rate_limiter(redis_url: str | None, per_minute: int, per_second: int) -> RateLimiter:
    if per_minute == 0 and per_second == 0:
        return NoRateLimiter()
    if redis_url:
        return RedisRateLimiter(redis_url, per_minute, per_second)
    return LocalRateLimiter(per_minute, per_second)
