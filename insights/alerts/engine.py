"""The two jobs of alerting, each one call: a pass that evaluates every workspace (the
periodic one of `insights serve`, and `insights alerts evaluate`), and a round that sends
what is due from the outbox (the worker, and `insights alerts deliver`). Each workspace is
evaluated in its own transaction, so one workspace's trouble never holds up another's."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from insights.alerts import outbox
from insights.alerts.evaluate import LOCK_CLASS, Changes, Scope, evaluate
from insights.alerts.send import Attempt, send
from insights.concurrency import run_blocking
from insights.db import is_sqlite, transaction
from insights.models import AlertRule, Workspace

log = logging.getLogger("insights.alerts")
DELIVERY_BATCH = 50


def evaluate_all(write: sessionmaker[Session], workspace_id: uuid.UUID | None = None) -> Changes:
    """One pass over every workspace that has an enabled rule (or over one workspace)."""
    with transaction(write) as session:
        query = select(AlertRule.workspace_id).where(AlertRule.enabled.is_(True)).distinct()
        if workspace_id is not None:
            query = select(Workspace.id).where(Workspace.id == workspace_id)
        workspace_ids = sorted(session.scalars(query))
    total = Changes()
    for one in workspace_ids:
        with transaction(write) as session:
            total += evaluate(session, one, Scope(everything=True))
    return total


def evaluate_scope(write: sessionmaker[Session], scopes: dict[uuid.UUID, Scope]) -> Changes:
    """Evaluates what writes just changed, each workspace in its own transaction."""
    total = Changes()
    for workspace_id, scope in scopes.items():
        with transaction(write) as session:
            total += evaluate(session, workspace_id, scope)
    return total


@contextmanager
def pass_lock(engine: Engine) -> Iterator[bool]:
    """Whether this process may run the periodic pass now: on PostgreSQL one process at a
    time holds a session advisory lock for the pass (released if the process dies); on
    SQLite the evaluations serialise on the write lock anyway."""
    if is_sqlite(engine):
        yield True
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        got = bool(connection.scalar(select(func.pg_try_advisory_lock(LOCK_CLASS, 0))))
        try:
            yield got
        finally:
            if got:
                connection.scalar(select(func.pg_advisory_unlock(LOCK_CLASS, 0)))


@dataclass
class Delivery:
    """Where and how notifications are sent, and what to tell about each outcome."""

    write: sessionmaker[Session]
    public_url: str
    allow_private: bool
    on_outcome: Callable[[str, str], None] = lambda _channel, _outcome: None

    async def round(self, client: httpx.AsyncClient | None = None) -> dict[str, int]:
        """Sends every notification due now (claimed in batches, each batch all at once);
        returns how many were delivered, retried and failed."""
        if client is None:
            async with httpx.AsyncClient(follow_redirects=False) as fresh:
                return await self._round(fresh)
        return await self._round(client)

    async def _round(self, client: httpx.AsyncClient) -> dict[str, int]:
        counts = {"delivered": 0, "retried": 0, "failed": 0}
        while batch := await run_blocking(self._claim):
            attempts = await self._send_all(client, batch)
            outcomes = await run_blocking(self._finish, batch, attempts)
            for one, outcome in zip(batch, outcomes, strict=True):
                if outcome in counts:
                    counts[outcome] += 1
                    self.on_outcome(one.channel_type, outcome)
            if len(batch) < DELIVERY_BATCH:
                break
        return counts

    async def _send_all(
        self, client: httpx.AsyncClient, batch: list[outbox.Claimed]
    ) -> list[Attempt]:
        """Sends the batch at once, but one alert's notifications in order (its firing
        before its resolved); the attempts in the batch's order."""
        by_alert: dict[uuid.UUID, list[int]] = {}
        for index, one in enumerate(batch):
            by_alert.setdefault(one.alert_id, []).append(index)
        attempts: list[Attempt | None] = [None] * len(batch)

        async def in_order(indexes: list[int]) -> None:
            for index in indexes:
                attempts[index] = await send(
                    client, batch[index], self.public_url, self.allow_private
                )

        await asyncio.gather(*(in_order(indexes) for indexes in by_alert.values()))
        return [attempt for attempt in attempts if attempt is not None]

    def _claim(self) -> list[outbox.Claimed]:
        with transaction(self.write) as session:
            return outbox.claim(session, DELIVERY_BATCH)

    def _finish(self, batch: list[outbox.Claimed], attempts: list[Attempt]) -> list[str]:
        outcomes = []
        with transaction(self.write) as session:
            for one, attempt in zip(batch, attempts, strict=True):
                outcomes.append(outbox.finish(session, one, attempt.status_code, attempt.error))
                if attempt.error is not None:
                    log.warning("alert notification %s: %s", one.id, attempt.error)
        return outcomes
