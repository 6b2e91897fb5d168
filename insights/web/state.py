"""What the app holds for its lifetime, built once in create_app and read by requests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from insights.alerts import EvaluationQueue
from insights.members import MemberCaches, ParallelReads
from insights.ratelimit import RateLimiter
from insights.settings import Settings


@dataclass
class AppState:
    """The settings, the database (engine and session factories), the member caches and
    extra bitmap-read connections the sessions carry, the rate limiter, and the queue of
    alert evaluations that writes leave behind."""

    settings: Settings
    engine: Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]
    rate_limiter: RateLimiter
    caches: MemberCaches
    alert_queue: EvaluationQueue
    parallel_reads: ParallelReads | None = None


def app_state(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.insights
    return state
