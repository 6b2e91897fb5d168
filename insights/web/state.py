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
from insights.upload_slots import UploadSlots
from insights.web.capacity import Capacity, SessionSlots
from insights.web.key_cache import KeyCache
from insights.web.key_use import KeyUseRecorder
from insights.web.report_cache import ReportCache
from insights.web.versions import VersionReads


@dataclass
class AppState:
    """The settings, the database (engine and session factories), the member caches and
    extra bitmap-read connections the sessions carry, the rate limiter, the member uploads'
    slots, the queue of alert evaluations that writes leave behind, the bound on requests
    holding a database session (insights.web.capacity), the caches of report answers and
    of checked keys, the stamping of keys' last use, and the reads of workspaces' data
    versions on the event loop."""

    settings: Settings
    engine: Engine
    probe: Engine  # readiness probes' own connections (insights.db.make_probe_engine)
    read: sessionmaker[Session]
    write: sessionmaker[Session]
    rate_limiter: RateLimiter
    upload_slots: UploadSlots
    caches: MemberCaches
    alert_queue: EvaluationQueue
    capacity: Capacity  # the pool, session slots and threads, sized together
    session_slots: SessionSlots  # requests holding a database session at once
    reports: ReportCache
    keys: KeyCache
    key_uses: KeyUseRecorder
    versions: VersionReads  # workspaces' data versions read on the event loop
    parallel_reads: ParallelReads | None = None


def app_state(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.insights
    return state
