"""Values at the edges of what the API accepts, served for real on both databases: counts at
their maximum never break the reads that add them up (issue item 6), and the time of an
event may not be ahead of the server's clock (item 8)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import Api
from tests.support.databases import Database
from tests.support.served import Served, in_parallel, no_server_errors, served_app

MAX_COUNT = 2**63 - 1


def stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def served(db: Database) -> Iterator[Served]:
    with served_app(db) as app:
        yield app


@pytest.fixture
def ws(db: Database, served: Served) -> Api:
    return served.workspace(db)


def test_counts_at_their_maximum_never_break_a_read(served: Served, ws: Api) -> None:
    """Two runs of each kind with their counts at the maximum (a sync run's rows synced
    add up to 2**63 - 1), completed a few seconds ago: the summary, sync-health, the
    dashboard and the observability reports add them up exactly, read at once."""
    source = ws.create("sources", name="S", source_type="x")["id"]
    model = ws.create("models", name="M", source_id=source)["id"]
    destination = ws.create("destinations", name="D", destination_type="x")["id"]
    sync = ws.create("syncs", name="Sync", model_id=model, destination_id=destination)["id"]
    loader = ws.create("loaders", name="L", loader_type="s3")["id"]
    now = datetime.now(UTC)
    times = {"started_at": stamp(now - timedelta(seconds=2)), "completed_at": stamp(now)}
    split = {"rows_created": MAX_COUNT - 7, "rows_updated": 5, "rows_deleted": 2}
    for counts in ({"rows_created": MAX_COUNT, "rows_processed": MAX_COUNT}, split):
        run = {"status": "completed", **times}
        assert ws.post(f"/syncs/{sync}/runs", json={**run, **counts}).status_code == 201
        loaded = {**run, "rows_loaded": MAX_COUNT}
        assert ws.post(f"/loaders/{loader}/runs", json=loaded).status_code == 201
    calls = [
        lambda: served.api(ws).get("/insights/summary"),
        lambda: served.api(ws).get("/insights/sync-health", params={"days": 1}),
        lambda: served.client().get(
            f"/workspaces/{ws.workspace_id}", headers={"Authorization": f"Bearer {ws.key}"}
        ),
    ]
    # The observability reports (contract 8) read the same counts, run by run.
    calls += [
        lambda path=path: served.api(ws).get(path)  # type: ignore[misc]
        for path in (
            "/insights/sync-duration",
            "/insights/sync-throughput",
            "/insights/sync-sla",
            f"/insights/syncs/{sync}",
        )
    ]
    summary, health, page, *observability = in_parallel(calls)
    no_server_errors([summary, health, page, *observability])
    assert [r.status_code for r in observability] == [200] * 4, [r.text for r in observability]
    assert summary.json()["syncs"]["rows_synced_today"] == 2 * MAX_COUNT
    assert summary.json()["loaders"]["rows_loaded_today"] == 2 * MAX_COUNT
    assert health.json()["syncs"][0]["total_rows_synced"] == 2 * MAX_COUNT
    assert page.status_code == 200


def test_rows_synced_past_the_maximum_are_a_400_on_create_and_update(ws: Api) -> None:
    """Each count within its bound, but together more than one count may be: refused when
    the run is reported and when an update would make it so."""
    source = ws.create("sources", name="S", source_type="x")["id"]
    model = ws.create("models", name="M", source_id=source)["id"]
    destination = ws.create("destinations", name="D", destination_type="x")["id"]
    sync = ws.create("syncs", name="Sync", model_id=model, destination_id=destination)["id"]
    run = {"status": "running", "started_at": "2024-01-15T10:00:00Z", "rows_created": MAX_COUNT}
    refused = ws.post(f"/syncs/{sync}/runs", json={**run, "rows_deleted": 1})
    assert refused.status_code == 400, refused.text
    assert "must add up to at most" in refused.json()["error"]
    created = ws.post(f"/syncs/{sync}/runs", json=run)
    assert created.status_code == 201
    path = f"/syncs/{sync}/runs/{created.json()['id']}"
    assert ws.put(path, json={"rows_updated": 1}).status_code == 400
    assert ws.put(path, json={"rows_created": 1, "rows_updated": MAX_COUNT - 1}).status_code == 200


def test_a_count_past_the_maximum_is_a_400(ws: Api) -> None:
    loader = ws.create("loaders", name="L", loader_type="s3")["id"]
    run = {"status": "running", "started_at": "2024-01-15T10:00:00Z", "rows_loaded": 2**63}
    response = ws.post(f"/loaders/{loader}/runs", json=run)
    assert response.status_code == 400
    assert "rows_loaded" in response.json()["error"]


def test_times_ahead_of_the_clock_are_refused_past_the_skew(served: Served, ws: Api) -> None:
    """9999-12-31 would block every later member list of the audience and top its trend;
    a clock a minute ahead of the server's is fine."""
    audience = ws.create("audiences", name="A")["id"]
    loader = ws.create("loaders", name="L", loader_type="s3")["id"]
    far, near = "9999-12-31T00:00:00Z", stamp(datetime.now(UTC) + timedelta(minutes=1))
    evaluations, members = f"/audiences/{audience}/evaluations", f"/audiences/{audience}/members"
    run = ws.post(f"/loaders/{loader}/runs", json={"status": "running", "started_at": near})
    assert run.status_code == 201, run.text
    calls = [
        lambda: served.api(ws).post(evaluations, json={"evaluated_at": far, "size": 5}),
        lambda: served.api(ws).post(evaluations, json={"evaluated_at": far, "members": ["a"]}),
        lambda: served.api(ws).put(
            members,
            content=b"a\n",
            headers={"Content-Type": "text/plain"},
            params={"evaluated_at": far},
        ),
        lambda: served.api(ws).post(
            f"/loaders/{loader}/runs", json={"status": "running", "started_at": far}
        ),
        lambda: served.api(ws).put(
            f"/loaders/{loader}/runs/{run.json()['id']}",
            json={"status": "completed", "completed_at": far},
        ),
    ]
    for response in in_parallel(calls):
        assert response.status_code == 400, response.text
        assert "ahead of the server's clock" in response.json()["error"]
    assert ws.get(evaluations).json()["pagination"]["total"] == 0
    accepted = ws.post(evaluations, json={"evaluated_at": near, "members": ["a"]})
    assert accepted.status_code == 201, accepted.text
