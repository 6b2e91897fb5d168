"""The key check, cached per process: a key checked once is trusted for a short while
(INSIGHTS_KEY_CACHE_SECONDS) as long as its workspace's data version has not moved. Every
request still reads that version (one primary-key row, which the report cache needs anyway),
and a revocation bumps it, so a revoked key is refused at once by every process."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from insights import auth, data_version, metrics
from insights.auth import Principal
from insights.lru import LruDict

MAX_KEYS = 10_000


@dataclass(frozen=True)
class _Checked:
    principal: Principal
    version: int
    until: float  # time.monotonic() after which the key is read again


class KeyCache:
    """Checked keys by hash, at most MAX_KEYS, the least recently used dropped first."""

    def __init__(self, seconds: float, max_keys: int = MAX_KEYS) -> None:
        self.seconds = seconds
        self._checked: LruDict[str, _Checked] = LruDict(max_keys)

    def trusted(self, raw: str) -> tuple[Principal, int] | None:
        """The principal of a key checked lately and the data version it was checked at,
        without reading anything (401 for what cannot be a key); None: check it. Trust it
        only while the workspace's version is still that one."""
        if self.seconds <= 0:
            return None
        auth.check_key_format(raw)
        checked = self._fresh(auth.hash_key(raw))
        return None if checked is None else (checked.principal, checked.version)

    def check(self, session: Session | Connection, raw: str) -> tuple[Principal, int]:
        """The principal of an active key (else 401) and its workspace's data version."""
        if self.seconds <= 0:
            return auth.authenticate_at_version(session, raw)
        auth.check_key_format(raw)
        digest = auth.hash_key(raw)
        checked = self._fresh(digest)
        if checked is not None:
            version = data_version.read_version(session, checked.principal.workspace_id)
            if version == checked.version:
                metrics.count_key_check(cached=True)
                return checked.principal, version
        metrics.count_key_check(cached=False)
        try:
            principal, version = auth.authenticate_at_version(session, raw)
        except Exception:
            self._forget(digest)
            raise
        self._remember(digest, _Checked(principal, version, time.monotonic() + self.seconds))
        return principal, version

    def _fresh(self, digest: str) -> _Checked | None:
        """The check of the key with this hash, unless none is cached or it is too old."""
        checked = self._checked.get(digest)
        return checked if checked is not None and checked.until > time.monotonic() else None

    def _remember(self, digest: str, checked: _Checked) -> None:
        self._checked.put(digest, checked)

    def _forget(self, digest: str) -> None:
        self._checked.pop(digest)
