"""Reading the stored bytes of audiences' current bitmaps, by audience.

SQLite reads them in one query. PostgreSQL reads them with the binary protocol (text-mode
bytea is three times slower) and, for read-only sessions, over several connections at once:
PostgreSQL 15 sends a large value in 8 KiB writes, so one connection moves about 600 MB/s on
the project machine; two 2.5 MB blobs take 9 ms on one connection and 4 ms on two."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.db import is_sqlite, make_engine
from insights.models import MemberBitmap

# session.info key under which a read-only session carries its ParallelReads.
PARALLEL_READS = "parallel_reads"
# How long the warm-up's opening of the connections waits for them all.
OPEN_SECONDS = 30
NOBODY = uuid.UUID(int=0)  # no workspace or audience has it

Blob = tuple[uuid.UUID, uuid.UUID, bytes]  # (audience id, evaluation id, serialised bitmap)


class ParallelReads:
    """Extra PostgreSQL connections, one thread each, that read blobs beside a read-only
    request's own connection. A connection is held for one query and never while waiting
    for another, so requests that wait for one cannot deadlock."""

    def __init__(self, url: str, connections: int) -> None:
        self.connections = connections
        self._engine = make_engine(url, pool_size=connections, pool="bitmap_reads")
        # Each query is its own snapshot: the rows read are immutable (see read_blobs).
        self._autocommit = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        self._threads = ThreadPoolExecutor(connections, thread_name_prefix="bitmap-read")

    def submit(self, workspace_id: uuid.UUID, audience_ids: list[uuid.UUID]) -> Future[list[Blob]]:
        return self._threads.submit(self._fetch, workspace_id, audience_ids)

    def _fetch(self, workspace_id: uuid.UUID, audience_ids: list[uuid.UUID]) -> list[Blob]:
        with self._autocommit.connect() as connection:
            return _fetch(connection.connection.driver_connection, workspace_id, audience_ids)

    def open_connections(self) -> None:
        """Opens the standing connections, starts their threads and runs the read once on
        each now (the warm-up), not on the first reads: each thread holds its connection
        until all have one, so that every thread is started and every connection used."""
        everyone = threading.Barrier(self.connections)

        def open_one() -> None:
            try:
                with self._autocommit.connect() as connection:
                    # A new server process loads a table's and its index's catalog entries
                    # on its first query of them: a read that matches nothing does it now.
                    _fetch(connection.connection.driver_connection, NOBODY, [NOBODY])
                    everyone.wait(OPEN_SECONDS)
            except BaseException:
                everyone.abort()  # the others stop waiting for this one
                raise

        for opened in [self._threads.submit(open_one) for _ in range(self.connections)]:
            opened.result()

    def dispose(self) -> None:
        self._threads.shutdown(wait=True)
        self._engine.dispose()


def parallel_reads(url: str, connections: int) -> ParallelReads | None:
    """ParallelReads for a PostgreSQL URL and at least one extra connection, else None."""
    if url.startswith("sqlite") or connections < 1:
        return None
    return ParallelReads(url, connections)


def read_blobs(
    session: Session, workspace_id: uuid.UUID, audience_ids: list[uuid.UUID]
) -> list[Blob]:
    """The current bitmaps of these audiences. By audience, not by evaluation: a member list
    replaced since the caller looked up its evaluation (PostgreSQL reads commit by commit)
    comes back in its newer version instead of missing; an audience deleted meanwhile is
    left out."""
    if not audience_ids:
        return []
    if is_sqlite(session):
        query = select(MemberBitmap.audience_id, MemberBitmap.evaluation_id, MemberBitmap.data)
        query = query.where(
            MemberBitmap.workspace_id == workspace_id, MemberBitmap.audience_id.in_(audience_ids)
        )
        return [(row[0], row[1], row[2]) for row in session.execute(query)]
    own = session.connection().connection.driver_connection
    parallel: ParallelReads | None = session.info.get(PARALLEL_READS)
    groups = min(len(audience_ids), 1 + (parallel.connections if parallel else 0))
    if parallel is None or groups < 2:
        return _fetch(own, workspace_id, audience_ids)
    # Every group but the first goes to an extra connection; the first stays on this one.
    shares = [audience_ids[start::groups] for start in range(groups)]
    pending = [parallel.submit(workspace_id, share) for share in shares[1:]]
    try:
        blobs = _fetch(own, workspace_id, shares[0])
    finally:
        wait(pending)  # none is left running past the request, whatever happened here
    for future in pending:
        blobs += future.result()  # raises what that fetch raised
    return blobs


def _fetch(connection: Any, workspace_id: uuid.UUID, audience_ids: list[uuid.UUID]) -> list[Blob]:
    with connection.cursor(binary=True) as cursor:
        cursor.execute(
            "SELECT audience_id, evaluation_id, data FROM member_bitmaps"
            " WHERE workspace_id = %s AND audience_id = ANY(%s)",
            (workspace_id, audience_ids),
        )
        return [(row[0], row[1], bytes(row[2])) for row in cursor.fetchall()]
