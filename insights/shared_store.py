"""Redis as the store the service's processes share (rate limits, upload slots), and never a
way for the service to fail: a call that fails is answered without Redis, Redis is left
alone for a few seconds after a failure (so a Redis that hangs costs one request its socket
timeout, not every request), and the failure is logged at most once a minute."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

log = logging.getLogger(__name__)

Result = TypeVar("Result")
# Seconds to wait for Redis on one call, and to leave it alone after a failed one.
CALL_TIMEOUT = 1.0
PAUSE_AFTER_FAILURE = 5.0
WARN_EVERY = 60.0


class SharedStore:
    """One Redis client for one purpose (named in the warnings)."""

    def __init__(self, url: str, purpose: str) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=CALL_TIMEOUT, socket_connect_timeout=CALL_TIMEOUT
        )
        self.purpose = purpose
        self._paused_until = 0.0
        self._warned_at: float | None = None
        self._lock = threading.Lock()

    def run(self, call: Callable[[], Result], without: Callable[[], Result]) -> Result:
        """call(), or without() when Redis fails (or failed in the last few seconds)."""
        if time.monotonic() < self._paused_until:
            return without()
        try:
            return call()
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return without()

    def _failed(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self._paused_until = now + PAUSE_AFTER_FAILURE
            if self._warned_at is not None and now - self._warned_at < WARN_EVERY:
                return
            self._warned_at = now
        # One line, no traceback: the cause is the network or Redis, not this code.
        log.warning(
            "Redis unreachable (%s: %s); %s without it, warning again in a minute at most",
            type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else "no message",
            self.purpose,
        )
