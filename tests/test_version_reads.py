"""Workspaces' data versions read on the event loop (insights.web.versions): a write committed
a moment before is seen by the very next read, many reads at once each get their own
workspace's version, and whenever the loop cannot read at once (not opened, another loop,
the database gone) the answer is None, so the request takes the pooled path."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import uvloop

from insights import workspaces
from insights.models import Source
from insights.web.versions import VersionReads, version_reads
from tests.support.databases import Database

Result = TypeVar("Result")


def _workspace(db: Database) -> uuid.UUID:
    with db.session() as session, session.begin():
        return workspaces.create_workspace(session, "Acme").id


def _write(db: Database, workspace_id: uuid.UUID) -> None:
    """A committed write of the workspace: bumps its version by one."""
    with db.session() as session, session.begin():
        session.add(
            Source(workspace_id=workspace_id, name="W", source_type="snowflake", status="active")
        )


def _run(scenario: Callable[[], Coroutine[Any, Any, Result]]) -> Result:
    """`scenario()` run on a uvloop (as uvicorn serves) on a thread of its own: the test
    process's main thread may have a loop running already (Playwright's, for instance)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: uvloop.run(scenario())).result()


async def _opened(url: str) -> VersionReads:
    reads = version_reads(url)
    await reads.open()
    return reads


def test_the_next_read_sees_a_write_committed_just_before(db: Database) -> None:
    workspace_id = _workspace(db)

    async def scenario() -> list[int | None]:
        reads = await _opened(db.url)
        try:
            seen = [await reads.read(workspace_id)]
            for _ in range(3):
                _write(db, workspace_id)
                seen.append(await reads.read(workspace_id))
            return seen
        finally:
            await reads.close()

    first, *after = _run(scenario)
    assert first is not None
    assert after == [first + 1, first + 2, first + 3]


def test_many_reads_at_once_each_get_their_workspaces_version(db: Database) -> None:
    quiet, busy = _workspace(db), _workspace(db)
    for _ in range(2):
        _write(db, busy)

    async def scenario() -> tuple[list[int | None], int | None]:
        reads = await _opened(db.url)
        try:
            ids = [quiet, busy, uuid.uuid4()] * 20
            answers = await asyncio.gather(*(reads.read(i) for i in ids))
            return list(answers), await reads.read(quiet)
        finally:
            await reads.close()

    answers, base = _run(scenario)
    assert base is not None
    assert answers == [base, base + 2, 0] * 20  # a workspace never written reads as 0


def test_a_reader_that_is_not_open_answers_none(db: Database) -> None:
    workspace_id = _workspace(db)

    async def scenario() -> tuple[int | None, int | None]:
        reads = version_reads(db.url)
        before = await reads.read(workspace_id)
        await reads.open()
        await reads.close()
        return before, await reads.read(workspace_id)

    assert _run(scenario) == (None, None)


def test_a_read_from_another_loop_answers_none_or_the_version(db: Database) -> None:
    """PostgreSQL's connection belongs to the loop that opened it: another loop (a second
    test client, say) is sent to the pooled path. SQLite's may be shared."""
    workspace_id = _workspace(db)
    opened: list[VersionReads] = []
    answers: list[int | None] = []

    async def open_it() -> None:
        opened.append(await _opened(db.url))
        thread = threading.Thread(target=lambda: answers.append(uvloop.run(elsewhere())))
        thread.start()
        await asyncio.to_thread(thread.join)
        await opened[0].close()

    async def elsewhere() -> int | None:
        return await opened[0].read(workspace_id)

    _run(open_it)
    assert answers == ([0] if db.kind == "sqlite" else [None])


def test_an_unreachable_database_answers_none(db: Database) -> None:
    if db.kind == "sqlite":
        url = "sqlite:////nonexistent-directory/insights.db"  # and never made
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"

    async def scenario() -> int | None:
        reads = await _opened(url)
        try:
            return await reads.read(uuid.uuid4())
        finally:
            await reads.close()

    assert _run(scenario) is None
