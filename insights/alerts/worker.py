"""The alert worker inside `insights serve`: the periodic pass every
INSIGHTS_ALERT_INTERVAL_SECONDS (in one process at a time) and, every second, a delivery
round. A failing database or receiver is logged and tried again on the next tick; the
worker itself never stops the service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from insights.alerts.engine import Delivery, evaluate_all, pass_lock
from insights.concurrency import run_blocking
from insights.settings import Settings

log = logging.getLogger("insights.alerts")
TICK_SECONDS = 1.0


def periodic_pass(engine: Engine, write: sessionmaker[Session]) -> bool:
    """Runs the pass unless another process is running it; whether it ran."""
    with pass_lock(engine) as mine:
        if mine:
            evaluate_all(write)
        return mine


async def run_worker(
    engine: Engine,
    write: sessionmaker[Session],
    settings: Settings,
    stop: asyncio.Event,
    on_outcome: Callable[[str, str], None] = lambda _channel, _outcome: None,
) -> None:
    """Runs until `stop` is set (or the task is cancelled: a notification being sent then
    keeps its lease and is sent again by whichever process claims it next)."""
    loop = asyncio.get_running_loop()
    delivery = Delivery(write, settings.public_url, settings.webhook_allow_private, on_outcome)
    next_pass = loop.time()
    async with httpx.AsyncClient(follow_redirects=False) as client:
        while not stop.is_set():
            if loop.time() >= next_pass:
                next_pass = loop.time() + settings.alert_interval_seconds
                await _guarded(
                    "the periodic alert pass", run_blocking(periodic_pass, engine, write)
                )
            await _guarded("the alert delivery round", delivery.round(client))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=TICK_SECONDS)


async def _guarded(what: str, job: Awaitable[object]) -> None:
    try:
        await job
    except Exception as exc:  # the next tick tries again; the service stays up
        first_line = (str(exc).splitlines() or [""])[0]
        log.warning("%s failed: %s: %s", what, type(exc).__name__, first_line)
