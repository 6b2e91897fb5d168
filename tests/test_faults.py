"""The fault suite: a TCP proxy of the tests' own (tests.support.proxy) between the service
and PostgreSQL, or Redis, cuts, stalls and slows the connection during a read, an
evaluation, an upload and an import. The client gets 503 (the CLI a one-line error), nothing
is half-written, and the service answers again, without a restart, once the database is
back. PostgreSQL only: SQLite has no connection to cut."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select

from insights import shared_store
from insights.models import AudienceEvaluation, MemberKey, SyncRun
from tests.support.api import Api
from tests.support.cli import INSIGHTS
from tests.support.databases import Database
from tests.support.factories import make_sync, make_workspace
from tests.support.proxy import FaultProxy, fault_proxy
from tests.support.served import Served, served_app

pytestmark = pytest.mark.parametrize("db", ["postgresql"], indirect=True)

REDIS_URL = "redis://127.0.0.1:6379/15"
TEXT = {"Content-Type": "text/plain"}


@pytest.fixture
def proxied(db: Database) -> Iterator[tuple[FaultProxy, Served]]:
    """The service on the test database through a fault proxy (the readiness probe too)."""
    with fault_proxy(db.url) as (proxy, url), served_app(db, database_url=url) as served:
        yield proxy, served


def count(db: Database, table: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def keys(n: int, prefix: str = "k") -> bytes:
    return b"".join(b"%s%07d\n" % (prefix.encode(), i) for i in range(n))


def test_a_cut_database_is_a_503_for_each_request_and_the_service_comes_back(
    db: Database, proxied: tuple[FaultProxy, Served]
) -> None:
    proxy, served = proxied
    ws = served.workspace(db)
    audience = ws.create("audiences", name="A")["id"]
    evaluations, members = f"/audiences/{audience}/evaluations", f"/audiences/{audience}/members"
    proxy.cut()
    down = [
        ws.get("/sources"),
        ws.post(evaluations, json={"members": ["a", "b"]}),
        ws.put(members, content=keys(100), headers=TEXT),
        served.client().get("/readyz"),
    ]
    assert [r.status_code for r in down] == [503] * 4, [r.text for r in down]
    assert all(r.json()["error"].startswith("The database is unreachable") for r in down)
    assert (count(db, AudienceEvaluation), count(db, MemberKey)) == (0, 0)
    proxy.restore()
    assert ws.get("/sources").status_code == 200
    assert ws.post(evaluations, json={"members": ["a", "b"]}).status_code == 201
    assert served.client().get("/readyz").json()["database"] == "up"


@pytest.mark.parametrize("write", ["upload", "evaluation"])
def test_a_connection_cut_in_the_middle_of_a_write_stores_nothing_of_it(
    db: Database, proxied: tuple[FaultProxy, Served], write: str
) -> None:
    """The cut comes while the write's transaction sends its keys: a 503, no evaluation and
    no key of it stored; sent again once the database is back, it is stored whole."""
    proxy, served = proxied
    ws = served.workspace(db)
    audience = ws.create("audiences", name="A")["id"]

    def send() -> httpx2.Response:
        if write == "upload":
            return ws.put(f"/audiences/{audience}/members", content=keys(50_000), headers=TEXT)
        listed = [f"k{i:07d}" for i in range(50_000)]
        return ws.post(f"/audiences/{audience}/evaluations", json={"members": listed})

    proxy.cut_after(100_000)  # well into the keys' inserts (about 600 kB of them)
    response = send()
    assert response.status_code == 503, response.text
    assert (count(db, AudienceEvaluation), count(db, MemberKey)) == (0, 0)
    proxy.restore()
    again = send()
    assert again.status_code == 201, again.text
    assert again.json()["size"] == 50_000
    assert (count(db, AudienceEvaluation), count(db, MemberKey)) == (1, 50_000)


def test_a_slow_or_stalled_database_delays_requests_but_fails_none(
    db: Database, proxied: tuple[FaultProxy, Served]
) -> None:
    proxy, served = proxied
    ws = served.workspace(db)
    audience = ws.create("audiences", name="A")["id"]
    proxy.slow(0.05)
    earlier = {"members": ["a"], "evaluated_at": "2024-01-15T10:00:00Z"}
    assert ws.post(f"/audiences/{audience}/evaluations", json=earlier).status_code == 201
    assert ws.get(f"/audiences/{audience}").status_code == 200
    proxy.stall()
    threading.Timer(1.0, proxy.restore).start()
    started = time.monotonic()
    stalled = ws.put(f"/audiences/{audience}/members", content=b"a\nb\n", headers=TEXT)
    assert stalled.status_code == 201, stalled.text
    assert time.monotonic() - started >= 0.9
    assert count(db, AudienceEvaluation) == 2


# --- the import (issue item 9) ------------------------------------------------------------


def _import_file(db: Database, tmp_path: Path, runs: int) -> tuple[uuid.UUID, Path]:
    with db.session() as session, session.begin():
        workspace_id = make_workspace(session).id
        sync_id = make_sync(session, workspace_id).id
    line = {"type": "sync_run", "sync_id": str(sync_id), "status": "running"}
    path = tmp_path / "runs.ndjson"
    with path.open("w") as out:
        for n in range(runs):
            stamp = f"2024-01-{1 + n // 86400 % 28:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:00Z"
            out.write(json.dumps({**line, "id": str(uuid.uuid4()), "started_at": stamp}) + "\n")
    return workspace_id, path


@pytest.mark.parametrize("atomic", [True, False])
def test_an_import_the_database_leaves_ends_with_one_line_saying_what_is_stored(
    db: Database, tmp_path: Path, atomic: bool
) -> None:
    """The database goes away once the import has committed a batch (or, atomic, sent as
    much): one line on stderr, no traceback nor row values, and the lines it says are stored
    are exactly those in the database."""
    workspace_id, path = _import_file(db, tmp_path, 40_000)
    with fault_proxy(db.url) as (proxy, url):
        env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHTS_")}
        args = [INSIGHTS, "import", str(path), "--workspace", str(workspace_id), "--no-progress"]
        command = subprocess.Popen(
            [*args, *([] if atomic else ["--no-atomic"])],
            env={**env, "INSIGHTS_DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while (count(db, SyncRun) == 0 if not atomic else proxy.to_server < 1_500_000) and (
            command.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.02)
        proxy.cut()
        _, stderr = command.communicate(timeout=60)
    assert command.returncode == 1, stderr
    assert "Traceback" not in stderr and "INSERT" not in stderr and "2024-01" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("Error: Line ") and "the database failed" in stderr
    stored = count(db, SyncRun)
    if atomic:
        assert stderr.rstrip().endswith("nothing of the file was stored.")
        assert stored == 0
    else:
        assert stored % 5_000 == 0 and 0 < stored < 40_000
        assert stderr.rstrip().endswith(f"(lines 1 to {stored} were stored).")


# --- Redis (issue item 9) ----------------------------------------------------------------


def test_redis_down_is_one_warning_a_minute_without_traceback_and_no_failed_request(
    db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rate limits and upload slots in Redis; Redis goes away for many requests (each
    trying it again: the pause after a failure is made short), then comes back."""
    monkeypatch.setattr(shared_store, "PAUSE_AFTER_FAILURE", 0.05)
    with (
        fault_proxy(REDIS_URL) as (proxy, url),
        served_app(db, redis_url=url, rate_limit_per_second=1000) as served,
    ):
        ws: Api = served.workspace(db)
        audience = ws.create("audiences", name="A")["id"]
        proxy.cut()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            for n in range(20):
                assert ws.get("/sources").status_code == 200
                put = ws.put(f"/audiences/{audience}/members", content=b"a\n", headers=TEXT)
                assert put.status_code in (201, 409), put.text
                time.sleep(0.06 if n % 5 == 0 else 0)
        warnings = [r for r in caplog.records if r.name == "insights.shared_store"]
        assert len(warnings) == 2, [r.getMessage() for r in warnings]  # one per use of Redis
        assert all(r.exc_info is None for r in warnings)
        assert {"rate limits" in r.getMessage() for r in warnings} == {True, False}
        proxy.restore()
        time.sleep(0.1)
        assert ws.get("/sources").status_code == 200
