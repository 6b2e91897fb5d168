"""Evaluation after writes, off the request: each write hands what it touched to this
queue and answers at once; one thread per process evaluates, merging what piled up
meanwhile per workspace, so a burst of writes costs a few evaluations, not one each. A
failed run is still alerted within a second or so (contract 9.2: "within seconds").

What is queued when the process stops is evaluated before it exits (`close`); what a
crash loses, the periodic pass finds within INSIGHTS_ALERT_INTERVAL_SECONDS."""

from __future__ import annotations

import logging
import threading
import time
import uuid

from sqlalchemy.orm import Session, sessionmaker

from insights.alerts.engine import evaluate_scope
from insights.alerts.evaluate import Scope

log = logging.getLogger("insights.alerts")
# How long the thread lets writes pile up before it evaluates them: a burst of writes to
# one workspace becomes one evaluation, and the evaluation's transaction (SQLite: the
# database's write lock) is taken once per burst rather than between every two writes.
GATHER_SECONDS = 0.2


class EvaluationQueue:
    """Scopes waiting for evaluation, merged per workspace, and the thread evaluating them."""

    def __init__(
        self, write: sessionmaker[Session], gather_seconds: float = GATHER_SECONDS
    ) -> None:
        self._write = write
        self._gather_seconds = gather_seconds
        self._pending: dict[uuid.UUID, Scope] = {}
        self._busy = False
        self._closed = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, scopes: dict[uuid.UUID, Scope]) -> None:
        if not scopes:
            return
        with self._changed:
            for workspace_id, scope in scopes.items():
                _merge(self._pending.setdefault(workspace_id, Scope()), scope)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="alert evaluation", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Whether everything submitted so far was evaluated within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Evaluates what is queued, then stops the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                if not self._pending:
                    return  # closed, and nothing left
                self._busy = True
            if not self._closed:
                time.sleep(self._gather_seconds)  # let the rest of a burst arrive
            with self._changed:
                taken, self._pending = self._pending, {}
            try:
                evaluate_scope(self._write, taken)
            except Exception as exc:  # the periodic pass catches up
                name = type(exc).__name__
                log.warning("evaluating alerts after writes failed: %s: %s", name, exc)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()


def _merge(into: Scope, scope: Scope) -> None:
    into.syncs |= scope.syncs
    into.audiences |= scope.audiences
    into.rules |= scope.rules
    into.everything = into.everything or scope.everything
