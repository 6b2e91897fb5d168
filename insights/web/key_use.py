"""A key's last_used_at, recorded at most once a minute per key and process, and never
waited for: a read must not queue behind a long write (a ten-million-key SQLite upload holds
the write lock for half a minute) to stamp a time nobody needs to the second.

On PostgreSQL the stamp is one statement in the request's own session that skips the key's
row when another transaction holds it. On SQLite a read request stamps through a connection
of its own that gives up at once when the write lock is taken; a write request already holds
that lock and stamps in its own transaction. A stamp given up is tried again by a later
request of the key, a second later at the earliest."""

from __future__ import annotations

import threading
import time
import uuid

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, TimeoutError
from sqlalchemy.orm import Session

from insights import auth, metrics
from insights.auth import Principal
from insights.db import is_sqlite, make_no_wait_sqlite_engine

RETRY_SECONDS = 1.0
MAX_KEYS = 10_000


class KeyUseRecorder:
    """When each key may be stamped next in this process, and the stamping itself."""

    def __init__(self, database_url: str) -> None:
        sqlite = database_url.startswith("sqlite")
        self._no_wait: Engine | None = make_no_wait_sqlite_engine(database_url) if sqlite else None
        self._due: dict[uuid.UUID, float] = {}  # key ID -> time.monotonic() of its next stamp
        self._lock = threading.Lock()

    def record(self, session: Session | Connection, principal: Principal, *, writing: bool) -> None:
        """Stamps the key's use unless it was stamped lately; `writing`: `session` is a
        write transaction (on SQLite it holds the write lock already)."""
        if not auth.needs_touch(principal) or not self._claim(principal.key_id):
            return
        stamped = self._stamp(session, principal, writing)
        if not stamped:
            metrics.count_key_use_deferred()
        wait = auth.LAST_USED_RESOLUTION.total_seconds() if stamped else RETRY_SECONDS
        with self._lock:
            self._due[principal.key_id] = time.monotonic() + wait

    def due(self, principal: Principal) -> bool:
        """Whether the next request of the key may stamp it (it then takes the ordinary
        path, with a connection); claims nothing."""
        if not auth.needs_touch(principal):
            return False
        with self._lock:
            return self._due.get(principal.key_id, 0.0) <= time.monotonic()

    def dispose(self) -> None:
        if self._no_wait is not None:
            self._no_wait.dispose()

    def _claim(self, key_id: uuid.UUID) -> bool:
        """True for the one request that stamps now; the others of this process go on."""
        now = time.monotonic()
        with self._lock:
            if self._due.get(key_id, 0.0) > now:
                return False
            if len(self._due) >= MAX_KEYS:
                self._due.clear()
            self._due[key_id] = now + RETRY_SECONDS
            return True

    def _stamp(self, session: Session | Connection, principal: Principal, writing: bool) -> bool:
        """False when the stamp would have had to wait."""
        if not is_sqlite(session):
            # Nothing written: the row was locked, or another process had just stamped it.
            return auth.touch_key(session, principal, skip_locked=True)
        if writing:
            auth.touch_key(session, principal)
            return True
        assert self._no_wait is not None
        try:
            with self._no_wait.begin() as connection:
                auth.touch_key(connection, principal)
        except (OperationalError, TimeoutError):  # the write lock, or our one connection, taken
            return False
        return True
