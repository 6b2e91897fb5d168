"""A key's last_used_at is stamped without ever making a request wait: while another
transaction holds the lock the stamp needs (SQLite's write lock during an upload,
PostgreSQL's key row), a read answers at once and the stamp is left for a later request."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx2
from sqlalchemy import select, text

from insights.models import ApiKey
from insights.web.key_use import RETRY_SECONDS
from tests.support.api import Api
from tests.support.databases import Database
from tests.support.metrics import parse, value

DEFERRED = "insights_key_uses_deferred_total"
REQUEST_SECONDS = 20


def _last_used(db: Database, raw: str) -> object:
    with db.read() as session:
        query = select(ApiKey.last_used_at).where(ApiKey.key_prefix == raw[:12])
        return session.scalars(query).one()


@contextmanager
def _stamp_lock_held(db: Database, raw: str) -> Iterator[None]:
    """What a stamp of `raw` would wait for, held by another transaction."""
    if db.kind == "sqlite":
        writer = sqlite3.connect(db.url.removeprefix("sqlite:///"), isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # as a long member upload holds it
        try:
            yield
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        return
    with db.engine.connect() as holder:
        query = "SELECT id FROM api_keys WHERE key_prefix = :prefix FOR UPDATE"
        holder.execute(text(query), {"prefix": raw[:12]})
        try:
            yield
        finally:
            holder.rollback()


def _get(api: Api, path: str, key: str) -> httpx2.Response:
    """The request, failing the test if it has to wait (instead of hanging it)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(api.get, path, key=key).result(timeout=REQUEST_SECONDS)


def test_a_read_does_not_wait_for_the_lock_its_keys_stamp_needs(db: Database, api: Api) -> None:
    reader = api.new_key("read")
    deferred = value(parse(api.client.get("/metrics").text), DEFERRED)
    with _stamp_lock_held(db, reader):
        for path in ("/insights/summary", "/sources"):
            response = _get(api, path, reader)
            assert response.status_code == 200, response.text
        assert _last_used(db, reader) is None
    if db.kind == "sqlite":
        after = value(parse(api.client.get("/metrics").text), DEFERRED)
        assert after == deferred + 1  # tried once, then left alone for a second
    time.sleep(RETRY_SECONDS + 0.2)
    assert _get(api, "/sources", reader).status_code == 200
    assert _last_used(db, reader) is not None


def test_a_key_is_stamped_once_a_minute_at_most(db: Database, api: Api) -> None:
    reader = api.new_key("read")
    assert api.get("/sources", key=reader).status_code == 200
    first = _last_used(db, reader)
    assert first is not None
    assert api.get("/sources", key=reader).status_code == 200
    assert _last_used(db, reader) == first
