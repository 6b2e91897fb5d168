"""The warm-up leaves nothing for a first request to build: after it, the first audience
overlap and the first GET of one resource of each kind compile no SQL statement (each comes
from SQLAlchemy's compiled cache), set up no session class's events, read no endpoint's
source file (FastAPI's note of where an endpoint is) and classify no dependency; every GET
route's duration series exists before its first request. Without the warm-up the same
requests do all of it, so the checks cannot pass for want of anything to see. On SQLite and
PostgreSQL."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import fastapi.dependencies.models
import fastapi.routing
import pytest
import sqlalchemy.event.attr
from sqlalchemy import event, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import CacheStats

from insights import auth, metrics, workspaces
from insights.kinds import KINDS
from insights.models import ApiKey, utcnow
from insights.web.state import AppState
from tests.support.databases import Database
from tests.support.factories import (
    make_audience,
    make_audience_sync,
    make_destination,
    make_loader,
    make_members,
    make_model,
    make_source,
    make_sync,
)
from tests.support.metrics import parse
from tests.support.served import Served, served_app

T0 = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


# FastAPI's classifications of dependencies, cached per callable for the process.
CLASSIFIED = tuple(
    getattr(fastapi.dependencies.models, f"_is_{kind}_callable_cached")
    for kind in ("gen", "async_gen", "coroutine")
)
DURATIONS = "insights_http_request_duration_seconds_count"


@pytest.fixture(autouse=True)
def _nothing_built_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI's notes of where endpoints are and its classifications of dependencies, and
    the request duration series, live once per process (the first two privately), filled by
    any earlier test's requests: each test here starts from none."""
    monkeypatch.setattr(fastapi.routing, "_endpoint_context_cache", {})
    for cache in CLASSIFIED:
        cache.cache_clear()
    metrics.HTTP_REQUEST_DURATION.clear()


def _workspace(db: Database) -> tuple[uuid.UUID, str, dict[str, uuid.UUID]]:
    """A workspace with one object of each kind, two audiences with members, and a read key
    used a moment ago (no first request stamps it). Written on the test's own engine, so the
    served app's compiled statements are the warm-up's alone."""
    with db.session() as session, session.begin():
        workspace_id = workspaces.create_workspace(session, "Acme", "UTC").id
        source = make_source(session, workspace_id)
        model = make_model(session, workspace_id, source_id=source.id)
        destination = make_destination(session, workspace_id)
        audience = make_audience(session, workspace_id)
        other = make_audience(session, workspace_id, name="Recent Buyers")
        for audience_id, keys in ((audience.id, "abc"), (other.id, "bcd")):
            make_members(session, workspace_id, audience_id, keys, evaluated_at=T0)
        ids = {
            "sources": source.id,
            "models": model.id,
            "destinations": destination.id,
            "audiences": audience.id,
            "other audience": other.id,
            "syncs": make_sync(
                session, workspace_id, model_id=model.id, destination_id=destination.id
            ).id,
            "audience-syncs": make_audience_sync(
                session, workspace_id, audience_id=audience.id, destination_id=destination.id
            ).id,
            "loaders": make_loader(session, workspace_id).id,
        }
        _, key = auth.mint_key(session, workspace_id, "reader", "read")
        stamp = update(ApiKey).where(ApiKey.workspace_id == workspace_id)
        session.execute(stamp.values(last_used_at=utcnow()))
    return workspace_id, key, ids


def _first_requests(served: Served, db: Database) -> list[str]:
    """The paths of the first overlap and of the first GET of each kind, each answered."""
    workspace_id, key, ids = _workspace(db)
    client = served.client()
    headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
    base = f"/api/v1/workspaces/{workspace_id}"
    pair = f"{ids['audiences']},{ids['other audience']}"
    paths = [f"{base}/insights/audience-overlap?audience_ids={pair}"]
    paths += [f"{base}/{kind}/{ids[kind]}" for kind in KINDS]
    for path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
    return paths


@contextmanager
def _compiled(engine: Engine) -> Iterator[list[str]]:
    """The statements compiled (SQLAlchemy's compiled cache missed) on `engine`, and on
    the engines made from it (the read and write sessions'), inside the block."""
    compiled: list[str] = []

    def seen(*args: Any) -> None:
        context = args[4]
        if context.cache_hit is CacheStats.CACHE_MISS:
            compiled.append(args[2])

    event.listen(engine, "after_cursor_execute", seen)
    try:
        yield compiled
    finally:
        event.remove(engine, "after_cursor_execute", seen)


@contextmanager
def _sources_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """The endpoints whose source FastAPI read (inspect.getsourcelines) inside the block."""
    read: list[object] = []
    original: Callable[[Any], Any] = inspect.getsourcelines

    def reading(target: Any) -> Any:
        read.append(target)
        return original(target)

    with monkeypatch.context() as patched:
        patched.setattr(inspect, "getsourcelines", reading)
        yield read


@contextmanager
def _event_lists_made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """The classes whose SQLAlchemy event lists were set up inside the block: a session
    factory makes a class of its own, whose first session sets up one list an event."""
    made: list[object] = []
    empty = sqlalchemy.event.attr._EmptyListener
    original = empty.__init__

    def making(self: Any, parent: Any, target_cls: type) -> None:
        made.append(target_cls)
        original(self, parent, target_cls)

    with monkeypatch.context() as patched:
        patched.setattr(empty, "__init__", making)
        yield made


def _classifications() -> int:
    return sum(cache.cache_info().misses for cache in CLASSIFIED)


@pytest.mark.parametrize("warm_up", [True, False], ids=["warmed", "cold"])
def test_first_overlap_and_resource_gets_compile_nothing_after_the_warm_up(
    db: Database, monkeypatch: pytest.MonkeyPatch, warm_up: bool
) -> None:
    with served_app(db, warm_up=warm_up) as served:
        state: AppState = served.app.state.insights
        classified = _classifications()
        with (
            _compiled(state.engine) as compiled,
            _sources_read(monkeypatch) as read,
            _event_lists_made(monkeypatch) as event_lists,
        ):
            paths = _first_requests(served, db)
        classified = _classifications() - classified
    if warm_up:
        assert compiled == [], "compiled by a first request after the warm-up"
        assert read == [], "endpoints located by a first request after the warm-up"
        made = [cls for cls in event_lists if cls in (state.read.class_, state.write.class_)]
        assert made == [], "session events set up by a first request"
        assert classified == 0, "dependencies classified by a first request"
    else:  # what the warm-up saves: the same requests, in a process without it
        assert len(compiled) >= len(paths), compiled
        assert len(read) == len(paths), read
        assert state.read.class_ in event_lists
        assert classified > 0


@pytest.mark.parametrize("warm_up", [True, False], ids=["warmed", "cold"])
def test_every_get_route_has_its_duration_series_before_its_first_request(
    db: Database, warm_up: bool
) -> None:
    overlap = "/api/v1/workspaces/{workspace_id}/insights/audience-overlap"
    with served_app(db, warm_up=warm_up) as served:
        scraped = parse(served.client().get("/metrics").text)
    series = {s.labels["route"]: s.value for s in scraped if s.name == DURATIONS}
    if warm_up:
        assert series[overlap] == 0
        assert series["/api/v1/workspaces/{workspace_id}/sources/{resource_id}"] == 0
        assert all(s.labels["method"] == "GET" for s in scraped if s.name == DURATIONS)
    else:
        assert overlap not in series


def test_the_warm_up_starts_every_bitmap_reader_with_its_connection(db: Database) -> None:
    """PostgreSQL reads member bitmaps over extra connections, one thread each: started and
    connected by the warm-up, not by the first overlap."""
    if db.kind != "postgresql":
        pytest.skip("only PostgreSQL reads bitmaps over extra connections")
    with served_app(db, warm_up=True, bitmap_read_connections=2) as served:
        reads = served.app.state.insights.parallel_reads
        assert reads is not None and reads.connections == 2
        assert len(reads._threads._threads) == 2
        assert reads._engine.pool.checkedin() == 2
        # Each connection has read from member_bitmaps (its catalog entries loaded) already.
        with db.engine.connect() as connection:
            readers = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND query LIKE 'SELECT audience_id, evaluation_id, data FROM member_bitmaps%'"
                )
            ).scalar_one()
        assert readers >= 2


@pytest.mark.parametrize("warm_up", [True, False], ids=["warmed", "cold"])
def test_postgresql_keeps_plans_of_the_key_check_and_the_overlap_after_the_warm_up(
    db: Database, warm_up: bool
) -> None:
    """The connection a first request gets has the key check's and the overlap's statements
    prepared with a generic plan (PostgreSQL plans each execution anew before that)."""
    if db.kind != "postgresql":
        pytest.skip("SQLite plans a statement once, when the connection prepares it")
    with served_app(db, warm_up=warm_up) as served:
        state: AppState = served.app.state.insights
        with state.engine.connect() as connection:  # the pool hands out the latest first
            planned = connection.execute(
                text("SELECT statement FROM pg_prepared_statements WHERE generic_plans > 0")
            ).scalars()
            statements = " | ".join(planned)
    tables = ("FROM api_keys", "FROM audiences", "FROM member_bitmaps")
    if warm_up:
        assert all(table in statements for table in tables), statements
    else:
        assert statements == ""
