"""Per-workspace rate limits (contract section 3), in the process and shared through Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Protocol

import httpx2
import pytest
import redis
from fastapi.testclient import TestClient

from insights.app import create_app
from tests.support.api import Api, make_settings, new_workspace_api
from tests.support.databases import Database

REDIS_URL = "redis://127.0.0.1:6379/15"


class AppFactory(Protocol):
    """Builds an app ("process") with these limits and returns its running client."""

    def __call__(self, per_second: int = 0, per_minute: int = 0) -> TestClient: ...


@pytest.fixture
def redis_url() -> str:
    """The test Redis database. It is not flushed: every test counts for fresh workspaces,
    so no two tests share a key, a FLUSHDB would reset the counts of tests running in
    parallel, and the limiter's keys expire on their own after a minute."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(params=["in-process", "redis"])
def store(request: pytest.FixtureRequest) -> str | None:
    """Where the counts live: None (this process) or the test Redis database."""
    if request.param == "in-process":
        return None
    return str(request.getfixturevalue("redis_url"))


@pytest.fixture
def make_client(db: Database, store: str | None) -> Iterator[AppFactory]:
    """Builds apps ("processes") on the test database with the given limits."""
    with ExitStack() as stack:

        def build(per_second: int = 0, per_minute: int = 0) -> TestClient:
            settings = make_settings(
                db,
                rate_limit_per_second=per_second,
                rate_limit_per_minute=per_minute,
                redis_url=store,
            )
            return stack.enter_context(TestClient(create_app(settings)))

        yield build


def _assert_429(response: httpx2.Response, max_wait: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= max_wait


def burst(db: Database, client: TestClient, count: int) -> tuple[Api, list[httpx2.Response]]:
    """`count` calls of a fresh workspace inside one second. A loaded machine may be too
    slow for that; the burst is then retried (in a new workspace) a few times."""
    for _ in range(3):
        api = new_workspace_api(db, client)
        start = time.monotonic()
        responses = [api.get("/sources") for _ in range(count)]
        if time.monotonic() - start < 0.8:
            return api, responses
    pytest.skip(f"this machine cannot send {count} requests within a second")


def test_burst_over_the_per_second_limit_is_429_with_retry_after(
    db: Database, make_client: AppFactory
) -> None:
    api, responses = burst(db, make_client(per_second=3), 4)
    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    _assert_429(responses[3], max_wait=1)
    _assert_429(api.post("/sources", json={"name": "S", "source_type": "x"}), max_wait=1)
    assert api.get("/sources").json()["error"]


def test_burst_limit_frees_up_after_a_second(db: Database, make_client: AppFactory) -> None:
    api, responses = burst(db, make_client(per_second=2), 3)
    assert [r.status_code for r in responses] == [200, 200, 429]
    time.sleep(1.1)
    assert api.get("/sources").status_code == 200


def test_requests_over_the_per_minute_limit_are_429(db: Database, make_client: AppFactory) -> None:
    api = new_workspace_api(db, make_client(per_minute=5))
    assert [api.get("/sources").status_code for _ in range(5)] == [200] * 5
    _assert_429(api.get("/sources"), max_wait=60)


def test_one_workspace_does_not_use_up_anothers_limit(
    db: Database, make_client: AppFactory
) -> None:
    client = make_client(per_second=2, per_minute=3)
    busy, quiet = new_workspace_api(db, client), new_workspace_api(db, client, name="Quiet")
    for _ in range(3):
        busy.get("/sources")
    assert busy.get("/sources").status_code == 429
    assert [quiet.get("/sources").status_code for _ in range(2)] == [200, 200]


def test_zero_switches_a_limit_off(db: Database, make_client: AppFactory) -> None:
    no_burst = new_workspace_api(db, make_client(per_second=0, per_minute=6))
    assert [no_burst.get("/sources").status_code for _ in range(7)] == [200] * 6 + [429]
    no_minute = new_workspace_api(db, make_client(per_second=50, per_minute=0))
    assert {no_minute.get("/sources").status_code for _ in range(6)} == {200}
    neither = new_workspace_api(db, make_client(per_second=0, per_minute=0))
    assert {neither.get("/sources").status_code for _ in range(6)} == {200}


def test_auth_failures_come_before_the_limit(db: Database, make_client: AppFactory) -> None:
    client = make_client(per_minute=2)
    api, other = new_workspace_api(db, client), new_workspace_api(db, client, name="Other")
    api.get("/sources")
    api.get("/sources")
    assert api.get("/sources").status_code == 429
    assert api.get("/sources", key="sk_live_" + "x" * 43).status_code == 401
    assert (
        api.get("/sources", headers={"X-Workspace-ID": str(other.workspace_id)}).status_code == 400
    )
    assert api.get("/sources", key=other.key).status_code == 403
    # Refused calls did not count against the other workspace's own limit.
    assert other.get("/sources").status_code == 200


def test_health_endpoints_are_not_limited(db: Database, make_client: AppFactory) -> None:
    client = make_client(per_second=1, per_minute=1)
    assert {client.get("/healthz").status_code for _ in range(5)} == {200}
    assert {client.get("/readyz").status_code for _ in range(5)} == {200}


def test_processes_sharing_redis_share_the_count(db: Database, redis_url: str) -> None:
    settings = make_settings(db, rate_limit_per_minute=4, redis_url=redis_url)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        _share_the_count(db, first, second)


def _share_the_count(db: Database, first: TestClient, second: TestClient) -> None:
    api = new_workspace_api(db, first)
    same_workspace_elsewhere = Api(second, api.workspace_id, api.key)
    assert api.get("/sources").status_code == 200
    assert same_workspace_elsewhere.get("/sources").status_code == 200
    assert api.get("/sources").status_code == 200
    assert same_workspace_elsewhere.get("/sources").status_code == 200
    _assert_429(same_workspace_elsewhere.get("/sources"), max_wait=60)
    _assert_429(api.get("/sources"), max_wait=60)


def test_in_process_limits_are_per_app_without_redis(db: Database) -> None:
    settings = make_settings(db, rate_limit_per_minute=2)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        api = new_workspace_api(db, first)
        elsewhere = Api(second, api.workspace_id, api.key)
        assert [api.get("/sources").status_code for _ in range(3)] == [200, 200, 429]
        assert elsewhere.get("/sources").status_code == 200


def test_unreachable_redis_admits_requests(db: Database) -> None:
    settings = make_settings(db, rate_limit_per_second=1, redis_url="redis://127.0.0.1:1/15")
    with TestClient(create_app(settings)) as client:
        api = new_workspace_api(db, client)
        assert [api.get("/sources").status_code for _ in range(3)] == [200, 200, 200]
