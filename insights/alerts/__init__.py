"""Alerts (contract 9): rules, their evaluation into firing and resolved alerts, and the
notifications an outbox delivers. The app and the CLI use this face; the modules below
each hold one part (rules, conditions, evaluate, outbox, send, engine, worker)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from insights.alerts.engine import Delivery, evaluate_all, evaluate_scope, pass_lock
from insights.alerts.evaluate import Changes, Scope
from insights.alerts.queue import EvaluationQueue
from insights.alerts.tracking import TRACK, take_scopes
from insights.alerts.worker import periodic_pass, run_worker

__all__ = [
    "TRACK",
    "Changes",
    "Delivery",
    "EvaluationQueue",
    "Scope",
    "evaluate_after_write",
    "evaluate_all",
    "pass_lock",
    "periodic_pass",
    "queue_after_write",
    "run_worker",
]

log = logging.getLogger("insights.alerts")


def queue_after_write(queue: EvaluationQueue, session: Session) -> None:
    """Hands what the committed `session` touched to the process's evaluation queue."""
    queue.submit(take_scopes(session))


def evaluate_after_write(write: sessionmaker[Session], session: Session) -> None:
    """Evaluates what the committed `session` touched. Its write stands whatever happens
    here: a failure is logged, and the periodic pass catches up."""
    scopes = take_scopes(session)
    if not scopes:
        return
    try:
        evaluate_scope(write, scopes)
    except Exception as exc:
        log.warning("evaluating alerts after a write failed: %s: %s", type(exc).__name__, exc)
