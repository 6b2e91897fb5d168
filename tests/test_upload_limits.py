"""The streaming member upload against hostile and slow clients, served for real on both
databases: keys the JSON route refuses are a 400 naming the line (with nothing stored, and
the response read by a client still sending), a slow upload holds no database connection,
and a workspace runs a bounded number of uploads at once (429 beyond), shared through Redis
by every process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial

import httpx2
import pytest
from sqlalchemy import func, select

from insights.db import connections_in_use
from insights.models import AudienceEvaluation, MemberKey
from insights.web.state import AppState
from tests.support.api import Api
from tests.support.databases import Database
from tests.support.served import Served, in_parallel, served_app

REDIS_URL = "redis://127.0.0.1:6379/15"
TEXT, NDJSON = "text/plain", "application/x-ndjson"


def members_path(api: Api) -> str:
    return f"/audiences/{api.create('audiences', name='Buyers')['id']}/members"


def put_members(api: Api, path: str, body: object, kind: str = TEXT) -> httpx2.Response:
    return api.put(path, content=body, headers={"Content-Type": kind})


def stored_counts(db: Database) -> tuple[int, int]:
    with db.session() as session:
        evaluations = session.scalar(select(func.count()).select_from(AudienceEvaluation))
        keys = session.scalar(select(func.count()).select_from(MemberKey))
    return evaluations or 0, keys or 0


def trickle(lines: int, every: float, stop: threading.Event | None = None) -> Iterator[bytes]:
    """A body that sends one key every `every` seconds, like a slow client."""
    for n in range(lines):
        if stop is not None and stop.is_set():
            return
        time.sleep(every)
        yield f"slow-{n}\n".encode()


def state_of(served: Served) -> AppState:
    state: AppState = served.app.state.insights
    return state


# --- keys the JSON route refuses (issue item 5) ------------------------------------------

BAD_BODIES = [
    (TEXT, b"a\nb\x00c\n", "Line 2: a member key must not contain a NUL character."),
    (NDJSON, b'"a"\n"b\\u0000c"\n', "Line 2: a member key must not contain a NUL character."),
    (NDJSON, b'"a"\n"\\ud800"\n', "Line 2: a member key must not contain a lone surrogate."),
    (NDJSON, b'"a"\n' + b"[" * 5000 + b"\n", "Line 2: a member key must be at most 256"),
    (NDJSON, b'"a"\n"b"\n' + b"[" * 2000 + b"\n", "Line 3: the line is not a JSON string."),
]


@pytest.mark.parametrize(("kind", "body", "message"), BAD_BODIES)
def test_keys_the_json_route_refuses_are_a_400_naming_the_line(
    db: Database, kind: str, body: bytes, message: str
) -> None:
    with served_app(db) as served:
        api = served.workspace(db)
        response = put_members(api, members_path(api), body, kind)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message)
    assert stored_counts(db) == (0, 0)


def test_a_bad_line_early_in_a_long_body_is_read_by_the_client_as_a_400(db: Database) -> None:
    """The client, still sending megabytes when the service answers, gets the 400, not a
    reset connection."""
    lines = (b"".join(b"k%07d\n" % n for n in range(m, m + 10_000)) for m in range(0, 10**6, 10**4))
    chunks = [b"ok\nbad\x00key\n", *lines]  # 8 MB, sent in 80 kB chunks
    with served_app(db) as served:
        api = served.workspace(db)
        response = put_members(api, members_path(api), iter(chunks))
    assert response.status_code == 400
    assert response.json()["error"].startswith("Line 2:")
    assert stored_counts(db) == (0, 0)


# --- slow clients and the per-workspace bound (item 7) ----------------------------------


def test_slow_uploads_hold_no_connection_and_other_workspaces_are_served(db: Database) -> None:
    """Six uploads sending a key every 0.2 s, on a pool of two connections (and two more of
    overflow): while they send, another workspace reads and writes at once, /readyz is up,
    and no pooled connection is in use."""
    stop = threading.Event()
    with served_app(db, db_pool_size=2, max_uploads_per_workspace=10) as served:
        slow, other = served.workspace(db, "Slow"), served.workspace(db, "Other")
        paths = [members_path(slow) for _ in range(6)]

        def upload(path: str) -> httpx2.Response:
            return put_members(served.api(slow), path, trickle(15, 0.2, stop))

        results: list[httpx2.Response] = []
        uploader = threading.Thread(
            target=lambda: results.extend(in_parallel([partial(upload, p) for p in paths]))
        )
        uploader.start()
        try:
            time.sleep(1)  # every upload has started and is waiting for its next line
            assert connections_in_use(state_of(served).engine)[0] == 0
            started = time.monotonic()
            assert other.post("/sources", json={"name": "S", "source_type": "x"}).status_code == 201
            assert other.get("/sources").status_code == 200
            ready = served.client().get("/readyz")
            assert time.monotonic() - started < 2
            assert ready.status_code == 200 and ready.json()["database"] == "up"
        finally:
            uploader.join(30)
    assert [r.status_code for r in results] == [201] * 6
    assert all(r.json()["size"] == 15 for r in results)


@pytest.fixture(params=["in-process", "redis"])
def slot_store(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "in-process" else REDIS_URL


def test_uploads_past_the_workspace_bound_are_429_with_retry_after(
    db: Database, slot_store: str | None
) -> None:
    """Two processes (apps) of one service: with Redis they share the bound of two uploads;
    another workspace uploads meanwhile, and the third upload is admitted once one ends."""
    stop = threading.Event()
    with ExitStack() as stack:
        first = stack.enter_context(
            served_app(db, max_uploads_per_workspace=2, redis_url=slot_store)
        )
        second = stack.enter_context(
            served_app(db, max_uploads_per_workspace=2, redis_url=slot_store)
        )
        busy, other = first.workspace(db, "Busy"), first.workspace(db, "Other")
        paths = [members_path(busy) for _ in range(3)]
        slow = [
            threading.Thread(
                target=put_members, args=(first.api(busy), path, trickle(100, 0.05, stop))
            )
            for path in paths[:2]
        ]
        for thread in slow:
            thread.start()
        try:
            time.sleep(0.5)
            via = second if slot_store else first  # without Redis each process counts alone
            refused = put_members(via.api(busy), paths[2], b"a\n")
            assert refused.status_code == 429, refused.text
            assert int(refused.headers["Retry-After"]) >= 1
            assert "member uploads in progress" in refused.json()["error"]
            assert put_members(other, members_path(other), b"a\n").status_code == 201
        finally:
            stop.set()
            for thread in slow:
                thread.join(30)
        assert put_members(via.api(busy), paths[2], b"a\n").status_code == 201


def test_readyz_tells_a_busy_pool_from_a_database_that_is_down(db: Database) -> None:
    with served_app(db, db_pool_size=1) as served:
        engine = state_of(served).engine
        limit = connections_in_use(engine)[1]
        assert limit is not None
        held = [engine.connect() for _ in range(limit)]
        try:
            ready = served.client().get("/readyz")
        finally:
            for connection in held:
                connection.close()
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] == "busy"
    assert ready.json()["connections_in_use"] == limit
