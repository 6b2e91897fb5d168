"""A cached Insights answer is served on the event loop alone (insights.web.deps): no session
slot, no worker thread, no pooled connection, yet every check still holds: the rate limit
counts it, a key whose last use is due for a stamp takes the ordinary path and is stamped,
and a write or a revocation shows in the very next read (tests/test_report_cache.py and
tests/test_cache_across_processes.py pin those)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from insights import auth
from insights.app import create_app
from insights.auth import Principal
from insights.models import utcnow
from insights.web.key_use import KeyUseRecorder
from tests.support.api import make_settings, new_workspace_api
from tests.support.databases import Database
from tests.support.served import (
    WAIT_SECONDS,
    served_app,
    wait_for_a_connection_in_use,
    writes_blocked,
)
from tests.test_ratelimit import REDIS_URL


def test_a_cached_answer_is_served_while_every_session_slot_is_taken(db: Database) -> None:
    """One session slot, held by a write that waits on a lock the test holds: a read that
    needs a session is told the service is busy, a cached summary is still answered."""
    with served_app(db, db_pool_size=1, request_queue_seconds=0.5) as served:
        ws = served.workspace(db)
        reader = served.api(ws)
        first = reader.get("/insights/summary")
        assert first.status_code == 200, first.text
        with ThreadPoolExecutor(1) as pool, writes_blocked(db):
            write = pool.submit(served.api(ws).post, "/sources", json=_source())
            wait_for_a_connection_in_use(served)
            assert reader.get("/sources").status_code == 503
            cached = reader.get("/insights/summary")
            assert cached.status_code == 200, cached.text
            assert cached.content == first.content
        assert write.result(WAIT_SECONDS).status_code == 201
        assert reader.get("/insights/summary").json()["sources"]["total"] == 1


def _source() -> dict[str, str]:
    return {"name": "Warehouse", "source_type": "snowflake"}


@pytest.mark.parametrize("store", [None, REDIS_URL], ids=["in-process", "redis"])
def test_cached_answers_count_against_the_rate_limit(db: Database, store: str | None) -> None:
    settings = make_settings(db, rate_limit_per_minute=4, redis_url=store)
    with TestClient(create_app(settings)) as client:
        api = new_workspace_api(db, client)
        statuses = [api.get("/insights/summary").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        assert api.get("/sources").status_code == 429  # one count for every kind of call


def test_a_key_is_due_for_a_stamp_once_a_minute_after_its_last() -> None:
    """What sends a cached read to the ordinary path, where its key's use is stamped."""
    recorder = KeyUseRecorder("postgresql+psycopg://unused")  # its check reads nothing
    key = Principal(uuid.uuid4(), uuid.uuid4(), "read", last_used_at=None)
    assert recorder.due(key)
    stamped_lately = Principal(key.key_id, key.workspace_id, "read", utcnow())
    assert not recorder.due(stamped_lately)
    long_ago = utcnow() - auth.LAST_USED_RESOLUTION - timedelta(seconds=1)
    assert recorder.due(Principal(key.key_id, key.workspace_id, "read", long_ago))
