"""Warm-up before a process serves: what its first requests would otherwise pay.

SQLAlchemy compiles each report's statements once per engine (then reuses them from its
compiled cache), as it does the key check's, Jinja compiles a template on first use, FastAPI
builds an included router's request handling (and notes each endpoint's place in its source
file) on the first request that reaches it, and the pool opens connections one request at a
time. Every report, and the GET of one resource of each kind, runs once here on a small demo
workspace written in a transaction that is rolled back: nobody ever sees it, and the
statements compiled are the ones real data needs (a workspace that does not exist would stop
at the first query)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights import auth, data_version, resources, workspaces
from insights.db import is_sqlite
from insights.demo.builder import build_demo
from insights.kinds import KINDS
from insights.members import PARALLEL_READS
from insights.models import Audience, Sync
from insights.reports import (
    activation_coverage,
    audience_overlap,
    audience_trends,
    audience_velocity,
    summary,
    sync_detail,
    sync_duration,
    sync_health,
    sync_sla,
    sync_throughput,
)
from insights.web.rehearsal import rehearse
from insights.web.state import AppState

log = logging.getLogger(__name__)

# The demo at this scale: two or three of each resource, 90 days of runs, audiences of
# thousands of members: every report path runs (the overlap needs two), in well under a second.
DEMO_SCALE = 0.1


def warm_up(state: AppState, also: Sequence[Callable[[], None]] = ()) -> None:
    """Compiles the reports' statements, has PostgreSQL keep plans of the key check's and
    the overlap's (insights.web.rehearsal), opens the pool's connections, then runs `also`.
    A failure only costs the first requests their warmth: it is logged, never raised."""
    started = time.perf_counter()
    try:
        _run_reports(state)
        rehearse(state)
        _fill_pool(state)
        for step in also:
            step()
    except Exception as exc:
        log.warning("warm-up stopped early: %s: %s", type(exc).__name__, exc, exc_info=True)
        return
    log.info("warmed up in %.0f ms", (time.perf_counter() - started) * 1000)


def _run_reports(state: AppState) -> None:
    session = state.write()
    try:
        workspace = workspaces.create_workspace(session, "warm-up", "America/New_York")
        build_demo(session, workspace.id, scale=DEMO_SCALE)
        session.flush()
        # Stored bitmaps go into the member caches: the reports would never read any, and
        # a first overlap would compile the read of stored bitmaps.
        state.caches.clear()
        reader = _reader(state, session)
        for report in REPORTS:
            report(reader, workspace.id, _ids(session, workspace.id))
        reader.close()
        _read_one_of_each_kind(session, workspace.id)
        _check_a_key(session, workspace.id)
    finally:
        session.rollback()
        session.close()
        state.caches.clear()  # the rolled-back workspace's members: nobody will ask


def _reader(state: AppState, session: Session) -> Session:
    """A session of the read requests' own factory, on the warm-up's connection (it sees
    the demo): SQLAlchemy sets up a session class's event dispatch on its first instance,
    ~0.5 ms that a first read request would pay. Without the extra bitmap-read connections,
    which cannot see the uncommitted demo."""
    return state.read(bind=session.connection(), info={PARALLEL_READS: None})


def _read_one_of_each_kind(session: Session, workspace_id: uuid.UUID) -> None:
    """The GET of one resource, as its route computes it, for every kind: each kind has
    its own statements (its table, the fields it derives on read)."""
    for kind in KINDS.values():
        found = resources.get(
            session, workspace_id, kind, min(resources.ids(session, workspace_id, kind))
        )
        resources.read(session, workspace_id, kind, found).model_dump_json(by_alias=True)


def _check_a_key(session: Session, workspace_id: uuid.UUID) -> None:
    """The statements of a request's key check, its workspace's version and its key's
    last-use stamp (as a read request on PostgreSQL sends it)."""
    _, raw = auth.mint_key(session, workspace_id, "warm-up", "read")
    principal, _ = auth.authenticate_at_version(session, raw)
    data_version.read_version(session, workspace_id)
    auth.touch_key(session, principal, skip_locked=not is_sqlite(session))


def _ids(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    audiences = session.scalars(
        select(Audience.id).where(Audience.workspace_id == workspace_id).order_by(Audience.id)
    ).all()
    sync = session.scalars(
        select(Sync.id).where(Sync.workspace_id == workspace_id).order_by(Sync.id)
    ).first()
    return {"audiences": list(audiences), "sync": sync}


Report = Callable[[Session, uuid.UUID, dict[str, Any]], object]
REPORTS: tuple[Report, ...] = (
    lambda s, w, ids: summary.summary(s, w),
    lambda s, w, ids: sync_health.sync_health(s, w, days=7),
    lambda s, w, ids: audience_trends.audience_trends(s, w, days=30, audience_ids=None),
    lambda s, w, ids: activation_coverage.activation_coverage(s, w),
    lambda s, w, ids: audience_overlap.audience_overlap(
        s, w, audience_ids=ids["audiences"][:2], min_count=None
    ),
    lambda s, w, ids: sync_duration.sync_duration(s, w, days=30, sync_ids=None),
    lambda s, w, ids: sync_throughput.sync_throughput(s, w, days=30, sync_ids=None),
    lambda s, w, ids: sync_sla.sync_sla(s, w, days=30),
    lambda s, w, ids: audience_velocity.audience_velocity(s, w, days=30, audience_ids=None),
    lambda s, w, ids: sync_detail.sync_detail(s, w, ids["sync"], days=30),
)


def _fill_pool(state: AppState) -> None:
    """Opens the pool's standing connections (the overflow ones close when returned) and
    the extra bitmap readers'."""
    count = min(state.settings.db_pool_size, state.capacity.slots)
    connections = [state.engine.connect() for _ in range(count)]
    # The first is the one the reports ran on; returned last, the pool (last in, first
    # out) hands it to the first request: its statements and caches are warm.
    for connection in reversed(connections):
        connection.close()
    if state.parallel_reads is not None:  # the first overlap would open them otherwise
        state.parallel_reads.open_connections()
