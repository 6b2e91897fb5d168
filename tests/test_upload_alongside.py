"""A large member upload does not keep the process from answering others: while its keys
are received, sorted and encoded (on worker threads, in steps that release the GIL), the
same served process answers /healthz and an authenticated read, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx2
import pytest

from insights.members.encoding import SqliteStage
from tests.support.databases import Database
from tests.support.served import served_app
from tests.test_upload_limits import members_path, put_members

KEYS = 200_000


def _answers_during(
    upload: Callable[[], httpx2.Response], probes: list[Callable[[], int]]
) -> tuple[httpx2.Response, list[int]]:
    """The upload's response, and the statuses of the probes answered before it came."""
    done = threading.Event()
    statuses: list[int] = []

    def probe() -> None:
        turn = 0
        while not done.is_set():
            status = probes[turn % len(probes)]()
            turn += 1
            if not done.is_set():
                statuses.append(status)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        response = upload()
    finally:
        done.set()
        prober.join(60)
    return response, statuses


def test_health_and_reads_are_answered_during_a_large_upload(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Runs of 20,000 keys: SQLite encodes ten of them, one after another, during the upload.
    monkeypatch.setattr(SqliteStage, "RUN_KEYS", 20_000)
    body = b"".join(b"member-%07d\n" % n for n in range(KEYS))
    with served_app(db) as served:
        api = served.workspace(db)
        path = members_path(api)
        reader, health = served.api(api), served.client()
        response, statuses = _answers_during(
            lambda: put_members(api, path, body),
            [
                lambda: health.get("/healthz").status_code,
                lambda: reader.get(path.removesuffix("/members")).status_code,
            ],
        )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == KEYS
    assert len(statuses) >= 2 and set(statuses) == {200}
