"""Reading stored bitmaps: by audience (a list replaced or an audience deleted since its
evaluation was looked up), over several PostgreSQL connections at once, and the cached union
of many audiences."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from insights import members
from insights.members.reads import PARALLEL_READS, parallel_reads, read_blobs
from insights.models import Audience
from tests.support.databases import Database
from tests.support.factories import make_audience, make_members

T0 = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


def _audiences_with_members(
    db: Database, workspace_id: uuid.UUID, lists: list[list[str]]
) -> list[uuid.UUID]:
    with db.session() as session, session.begin():
        audiences: list[uuid.UUID] = []
        for number, keys in enumerate(lists):
            audience = make_audience(session, workspace_id, name=f"A{number}")
            make_members(session, workspace_id, audience.id, keys, evaluated_at=T0)
            audiences.append(audience.id)
    return audiences


def test_a_list_replaced_since_its_evaluation_was_looked_up_is_read_newer(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id)
        old = make_members(session, workspace_id, audience.id, ["a", "b"], evaluated_at=T0)
        new = make_members(
            session, workspace_id, audience.id, ["b", "c", "d"], evaluated_at=T0 + timedelta(1)
        )
    db.caches.bitmaps.clear()
    with db.read() as session:
        found = members.load_bitmaps(session, workspace_id, {audience.id: old.id})
    assert len(found[audience.id]) == 3
    assert db.caches.bitmaps.get((workspace_id, new.id)) is found[audience.id]
    assert db.caches.bitmaps.get((workspace_id, old.id)) is None


def test_an_audience_deleted_since_its_evaluation_was_looked_up_is_left_out(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id)
        evaluation = make_members(session, workspace_id, audience.id, ["a"], evaluated_at=T0)
    with db.session() as session, session.begin():
        session.execute(delete(Audience).where(Audience.id == audience.id))
    db.caches.bitmaps.clear()
    with db.read() as session:
        assert members.load_bitmaps(session, workspace_id, {audience.id: evaluation.id}) == {}


def test_blobs_of_another_workspace_are_not_read(db: Database, workspace_id: uuid.UUID) -> None:
    (audience,) = _audiences_with_members(db, workspace_id, [["a"]])
    with db.read() as session:
        assert read_blobs(session, uuid.uuid4(), [audience]) == []


def test_parallel_reads_only_on_postgresql_with_extra_connections(db: Database) -> None:
    assert parallel_reads(db.url, 0) is None
    reads = parallel_reads(db.url, 2)
    try:
        assert (reads is None) == (db.kind == "sqlite")
    finally:
        if reads is not None:
            reads.dispose()


def test_parallel_reads_return_what_one_connection_does(
    db: Database, workspace_id: uuid.UUID
) -> None:
    if db.kind == "sqlite":
        pytest.skip("SQLite reads its blobs in one query on one connection")
    lists = [[f"k{i}" for i in range(size)] for size in (1, 10, 100, 1000, 5)]
    audiences = _audiences_with_members(db, workspace_id, lists)
    with db.read() as session:
        serial = sorted(read_blobs(session, workspace_id, audiences))
    reads = parallel_reads(db.url, 2)
    assert reads is not None
    try:
        db.read.configure(info={PARALLEL_READS: reads})
        with db.read() as session:
            parallel = sorted(read_blobs(session, workspace_id, audiences))
        # Three shares of the five audiences: two went to the extra connections' pool.
        pool = reads._engine.pool
        assert isinstance(pool, QueuePool)  # an Engine's pool is typed as any Pool
        assert pool.checkedin() >= 1
    finally:
        db.read.configure(info={})
        reads.dispose()
    assert parallel == serial
    sizes = sorted(len(members.FrozenBitMap.deserialize(blob[2])) for blob in parallel)
    assert sizes == sorted(len(keys) for keys in lists)


def test_the_union_of_unchanged_lists_is_counted_once(
    db: Database, workspace_id: uuid.UUID
) -> None:
    a, b = _audiences_with_members(db, workspace_id, [["x", "y"], ["y", "z"]])
    with db.read() as session:
        assert members.union_cardinality(session, workspace_id, [a, b]) == (3, [])
        db.caches.bitmaps.clear()
        # Counted before: the same evaluations need no bitmap at all.
        assert members.union_cardinality(session, workspace_id, [b, a]) == (3, [])
        assert len(db.caches.bitmaps) == 0
    with db.session() as session, session.begin():
        make_members(session, workspace_id, b, ["z", "w", "v"], evaluated_at=T0 + timedelta(1))
    with db.read() as session:
        # A new list is a new evaluation, so a new key: nothing stale is ever served.
        assert members.union_cardinality(session, workspace_id, [a, b]) == (5, [])


def test_no_union_is_cached_while_bitmaps_may_not_be(db: Database, workspace_id: uuid.UUID) -> None:
    a, b = _audiences_with_members(db, workspace_id, [["x"], ["y"]])
    uncached = members.MemberCaches.sized(0)
    with Session(db.engine, info=members.session_info(uncached)) as session:
        assert members.union_cardinality(session, workspace_id, [a, b]) == (2, [])
        assert members.union_cardinality(session, workspace_id, [a, b]) == (2, [])
    assert len(uncached.unions) == 0
