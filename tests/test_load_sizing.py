"""Requests queue instead of deadlocking: the service served for real with a deliberately tiny
pool answers every one of many parallel requests (reads that also stamp their key's
last_used_at on a second connection, and writes); a request that cannot get a database
session in time is a 503 busy with Retry-After, never "unreachable"; the warm-up compiles
the reports' statements and leaves nothing behind. On SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx2
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from insights import auth
from insights.models import Workspace
from insights.settings import Settings
from insights.web.capacity import Capacity
from insights.web.state import AppState
from tests.support import metrics
from tests.support.api import Api
from tests.support.databases import Database
from tests.support.served import (
    WAIT_SECONDS,
    Served,
    in_parallel,
    served_app,
    wait_for_a_connection_in_use,
    writes_blocked,
)

PARALLEL = 48


def read_keys(db: Database, ws: Api, count: int) -> list[str]:
    """New read keys of the workspace: the first use of each writes its last_used_at."""
    with db.session() as session, session.begin():
        return [auth.mint_key(session, ws.workspace_id, f"r{i}", "read")[1] for i in range(count)]


def test_many_parallel_requests_on_a_one_connection_pool_all_answer(db: Database) -> None:
    """A pool of 1 (+1 overflow), 1 session slot and 2 threads: 48 requests at once, each
    read on a key never used before (so it also takes a second connection for the key's
    last_used_at), and writes among them. The old sizing (40 threads on this pool) held
    connections that waited for threads and threads that waited for connections: 503s."""
    settings = {"db_pool_size": 1, "request_threads": 2, "db_pool_timeout_seconds": 2}
    with served_app(db, **settings) as served:
        ws = served.workspace(db)
        ws.create_sync("S")
        keys = read_keys(db, ws, PARALLEL)
        paths = ["/insights/summary", "/insights/sync-health?days=7", "/syncs", "/audiences"]
        calls: list[Callable[[], httpx2.Response]] = []
        for i, key in enumerate(keys):
            api = served.api(ws)
            if i % 6 == 5:
                calls.append(partial(api.post, "/sources", json=_source(i)))
            else:
                calls.append(partial(api.get, paths[i % len(paths)], key=key))
        responses = in_parallel(calls)
    statuses = sorted({r.status_code for r in responses})
    assert statuses == [200, 201], [r.text for r in responses if r.status_code >= 300][:3]


def _source(i: int) -> dict[str, str]:
    return {"name": f"Source {i}", "source_type": "snowflake"}


def test_a_request_that_waits_too_long_for_a_session_is_503_busy_with_retry_after(
    db: Database,
) -> None:
    """One session slot, held by a write that waits on a lock the test holds: a read then
    waits request_queue_seconds for the slot and is told the service is busy, with
    Retry-After; once the lock goes, the write completes and reads are served again."""
    with served_app(db, db_pool_size=1, request_queue_seconds=0.5) as served:
        ws = served.workspace(db)
        writer = served.api(ws)
        with ThreadPoolExecutor(1) as pool, writes_blocked(db):
            write = pool.submit(writer.post, "/sources", json=_source(1))
            wait_for_a_connection_in_use(served)
            busy = ws.get("/sources")
            assert busy.status_code == 503, busy.text
            assert busy.headers["Retry-After"] == "1"
            assert "in use; retry shortly" in busy.json()["error"]
        written = write.result(WAIT_SECONDS)
        assert written.status_code == 201, written.text
        assert ws.get("/sources").status_code == 200


def test_healthz_answers_while_every_thread_is_busy(db: Database) -> None:
    """Liveness runs on the event loop: with the only session slot and its thread held by
    a waiting write, /healthz still answers at once (readiness tells busy from down)."""
    with served_app(db, db_pool_size=1, request_threads=1) as served:
        ws = served.workspace(db)
        writer = served.api(ws)
        with ThreadPoolExecutor(1) as pool, writes_blocked(db):
            write = pool.submit(writer.post, "/sources", json=_source(1))
            wait_for_a_connection_in_use(served)
            assert served.client().get("/healthz").json() == {"status": "ok"}
        assert write.result(WAIT_SECONDS).status_code == 201


def test_the_warm_up_compiles_the_reports_and_leaves_no_workspace_behind(db: Database) -> None:
    before = _workspaces(db)
    with served_app(db, warm_up=True) as served:
        state: AppState = served.app.state.insights
        compiled = state.engine._compiled_cache
        assert compiled is not None and len(compiled) >= 20, "the reports were not compiled"
        assert state.engine.pool.checkedin() >= 1  # type: ignore[attr-defined]
        if state.parallel_reads is not None:  # PostgreSQL's extra bitmap readers
            assert state.parallel_reads._engine.pool.checkedin() >= 1  # type: ignore[attr-defined]
        # FastAPI builds an included router's request handling lazily (a private field).
        routers = [r for r in served.app.router.routes if hasattr(r, "effective_candidates")]
        assert all(getattr(r, "_effective_candidates_version", 0) is not None for r in routers)
        ws = served.workspace(db)
        assert ws.get("/insights/summary").status_code == 200
    assert _workspaces(db) == before + 1  # the one this test made; none of the warm-up's


def _workspaces(db: Database) -> int:
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(Workspace)) or 0


def test_the_sizing_rule_is_the_documented_one() -> None:
    """docs/operations.md: C = 2P connections, S = C - 5 session slots, T = S + 4 threads
    (or INSIGHTS_REQUEST_THREADS, and never fewer threads than slots)."""
    assert Capacity.sized(Settings(db_pool_size=10)) == Capacity(20, 15, 19)
    assert Capacity.sized(Settings(db_pool_size=1)) == Capacity(2, 1, 5)
    assert Capacity.sized(Settings(db_pool_size=10, request_threads=4)) == Capacity(20, 4, 4)


def test_requests_whose_clients_left_while_queued_are_dropped_unserved(db: Database) -> None:
    """Clients that close their connection while their request waits for a session leave
    no work behind: each is dropped (counted as a 499) when its turn comes, and the next
    request is served at once instead of after them."""
    gone = 8
    with served_app(db, db_pool_size=1) as served:
        state: AppState = served.app.state.insights
        ws = served.workspace(db)
        writer, port = served.api(ws), int(served.base_url.rsplit(":", 1)[1])
        before = _answered(served, "499")
        with ThreadPoolExecutor(1) as pool, writes_blocked(db):
            write = pool.submit(writer.post, "/sources", json=_source(1))
            wait_for_a_connection_in_use(served)
            sockets = [_send_get(port, ws, "/sources") for _ in range(gone)]
            _wait_until(lambda: state.session_slots.waiting == gone, "requests to queue")
            for sock in sockets:
                sock.close()
        assert write.result(WAIT_SECONDS).status_code == 201
        _wait_until(lambda: _answered(served, "499") - before == gone, "the drops")
        assert ws.get("/sources").status_code == 200


def _send_get(port: int, ws: Api, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    headers = "".join(f"{name}: {value}\r\n" for name, value in ws.headers().items())
    request = f"GET {ws.base}{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n"
    sock.sendall(request.encode())
    return sock


def _answered(served: Served, status: str) -> float:
    samples = metrics.parse(served.client().get("/metrics").text)
    return metrics.total(samples, "insights_http_requests_total", status=status)


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"waited in vain for {what}"
        time.sleep(0.02)
