"""The cache of Insights answers: a repeated read is served from it (its /metrics counters say
so), every kind of write makes the next read compute afresh, an answer never crosses
workspaces, an entry expires after INSIGHTS_REPORT_CACHE_SECONDS, and the key check's cache
never outlives a revocation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from insights.app import create_app
from insights.importer import import_file
from insights.models import Source, WorkspaceVersion
from tests.support.api import Api, make_settings, new_workspace_api
from tests.support.databases import Database
from tests.support.metrics import parse

HITS = "insights_report_cache_hits_total"
MISSES = "insights_report_cache_misses_total"
KEY_CHECKS = "insights_key_checks_total"


def counters(api: Api) -> dict[str, float]:
    """This process's report and key-check counters, by name and label."""
    samples = parse(api.client.get("/metrics").text)
    found = {
        f"{sample.name}{sorted(sample.labels.items())}": sample.value
        for sample in samples
        if sample.name in (HITS, MISSES, KEY_CHECKS)
    }
    return found


def moved(before: dict[str, float], after: dict[str, float], name: str, **labels: str) -> float:
    key = f"{name}{sorted(labels.items())}"
    return after.get(key, 0.0) - before.get(key, 0.0)


def read_twice(api: Api, path: str, **params: Any) -> dict[str, Any]:
    """The answer of `path`, read twice: the second read must come from the cache."""
    first = api.get(path, params=params)
    assert first.status_code == 200, first.text
    before = counters(api)
    second = api.get(path, params=params)
    after = counters(api)
    report = path.rsplit("/", 1)[-1].replace("-", "_")
    assert moved(before, after, HITS, report=report) == 1
    assert moved(before, after, MISSES, report=report) == 0
    assert second.content == first.content
    body: dict[str, Any] = second.json()
    return body


def read_afresh(api: Api, path: str, **params: Any) -> dict[str, Any]:
    """The answer of `path`, which must have been computed, not served from the cache."""
    before = counters(api)
    response = api.get(path, params=params)
    after = counters(api)
    assert response.status_code == 200, response.text
    report = path.rsplit("/", 1)[-1].replace("-", "_")
    assert moved(before, after, MISSES, report=report) == 1
    assert moved(before, after, HITS, report=report) == 0
    body: dict[str, Any] = response.json()
    return body


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_repeated_read_is_served_from_the_cache(api: Api) -> None:
    api.create("sources", name="Warehouse", source_type="snowflake")
    body = read_twice(api, "/insights/summary")
    assert body["sources"]["total"] == 1
    read_twice(api, "/insights/sync-health", days="7")
    # The parameters are compared parsed: 07 is 7, served from the same entry.
    before = counters(api)
    assert api.get("/insights/sync-health", params={"days": "07"}).status_code == 200
    assert moved(before, counters(api), HITS, report="sync_health") == 1


def test_a_cached_answer_skips_the_key_lookup_but_not_the_version(api: Api) -> None:
    api.get("/insights/summary")
    before = counters(api)
    api.get("/insights/summary")
    after = counters(api)
    assert moved(before, after, KEY_CHECKS, cached="true") == 1
    assert moved(before, after, KEY_CHECKS, cached="false") == 0


def _run(api: Api, sync_id: str) -> dict[str, Any]:
    """A running run of the sync, started an hour ago."""
    started = stamp(datetime.now(UTC) - timedelta(hours=1))
    body = {"status": "running", "started_at": started}
    response = api.post(f"/syncs/{sync_id}/runs", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_creating_updating_and_deleting_a_resource_invalidate(api: Api) -> None:
    read_twice(api, "/insights/summary")
    source = api.create("sources", name="Warehouse", source_type="snowflake")
    assert read_afresh(api, "/insights/summary")["sources"]["total"] == 1
    read_twice(api, "/insights/summary")
    response = api.put(f"/sources/{source['id']}", json={"status": "error"})
    assert response.status_code == 200, response.text
    assert read_afresh(api, "/insights/summary")["sources"]["error"] == 1
    read_twice(api, "/insights/summary")
    assert api.delete(f"/sources/{source['id']}").status_code == 204
    assert read_afresh(api, "/insights/summary")["sources"]["total"] == 0


def test_one_resource_is_served_from_the_cache_until_it_changes(api: Api) -> None:
    source = api.create("sources", name="Warehouse", source_type="snowflake")
    path = f"/sources/{source['id']}"
    first = api.get(path)
    before = counters(api)
    second = api.get(path)
    after = counters(api)
    assert moved(before, after, HITS, report="get_source") == 1
    assert second.content == first.content
    assert api.put(path, json={"name": "Lake"}).status_code == 200
    before = counters(api)
    assert api.get(path).json()["name"] == "Lake"
    assert moved(before, counters(api), MISSES, report="get_source") == 1
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_a_new_run_and_a_run_update_invalidate(api: Api) -> None:
    sync = api.create_sync("Customers")
    read_twice(api, "/insights/sync-health", days="7")
    run = _run(api, sync["id"])
    before = read_afresh(api, "/insights/sync-health", days="7")
    assert before["syncs"][0]["last_run_status"] == "running"
    read_twice(api, "/insights/sync-health", days="7")
    finished = {"status": "failed", "completed_at": stamp(datetime.now(UTC))}
    response = api.put(f"/syncs/{sync['id']}/runs/{run['id']}", json=finished)
    assert response.status_code == 200, response.text
    after = read_afresh(api, "/insights/sync-health", days="7")
    assert after["failing_syncs"] == 1
    assert after["syncs"][0]["failed_runs"] == 1


def test_an_evaluation_and_a_member_upload_invalidate(api: Api) -> None:
    audience = api.create("audiences", name="Buyers")
    read_twice(api, "/insights/audience-trends", days="30")
    response = api.post(f"/audiences/{audience['id']}/evaluations", json={"size": 12})
    assert response.status_code == 201, response.text
    trends = read_afresh(api, "/insights/audience-trends", days="30")
    assert trends["audiences"][0]["current_size"] == 12
    read_twice(api, "/insights/summary")
    response = api.put(
        f"/audiences/{audience['id']}/members",
        params={"evaluated_at": stamp(datetime.now(UTC))},
        content="a\nb\nc\n",
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 201, response.text
    assert read_afresh(api, "/insights/summary")["audiences"]["total_members"] == 3


def test_a_time_zone_change_invalidates(api: Api) -> None:
    audience = api.create("audiences", name="Buyers")
    # 23:30 UTC yesterday: the previous date in UTC, the same date as now in UTC+14.
    late = (datetime.now(UTC) - timedelta(days=1)).replace(hour=23, minute=30, second=0)
    body = {"size": 5, "evaluated_at": stamp(late)}
    assert api.post(f"/audiences/{audience['id']}/evaluations", json=body).status_code == 201
    utc = read_twice(api, "/insights/audience-trends", days="30")
    assert api.put("", json={"timezone": "Pacific/Kiritimati"}).status_code == 200
    zoned = read_afresh(api, "/insights/audience-trends", days="30")
    utc_date = utc["audiences"][0]["data_points"][0]["date"]
    assert zoned["audiences"][0]["data_points"][0]["date"] != utc_date


def test_an_import_invalidates(db: Database, api: Api, tmp_path: Path) -> None:
    read_twice(api, "/insights/summary")
    path = tmp_path / "history.ndjson"
    path.write_text('{"type": "source", "name": "Imported", "source_type": "bigquery"}\n')
    with db.session() as session, session.begin():
        import_file(session, api.workspace_id, path)
    assert read_afresh(api, "/insights/summary")["sources"]["total"] == 1


def test_a_cached_answer_never_crosses_workspaces(api: Api, other_api: Api) -> None:
    api.create("sources", name="Mine", source_type="snowflake")
    mine = read_twice(api, "/insights/summary")
    theirs = read_afresh(other_api, "/insights/summary")
    assert mine["sources"]["total"] == 1
    assert theirs["sources"]["total"] == 0
    # A key of the other workspace is refused on this one's cached answer.
    response = api.get("/insights/summary", key=other_api.key)
    assert response.status_code == 403
    assert "Mine" not in response.text


def test_a_write_to_another_workspace_keeps_this_ones_answer(api: Api, other_api: Api) -> None:
    read_twice(api, "/insights/summary")
    other_api.create("sources", name="Theirs", source_type="snowflake")
    before = counters(api)
    assert api.get("/insights/summary").json()["sources"]["total"] == 0
    assert moved(before, counters(api), HITS, report="summary") == 1


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_expires_after_the_configured_age(db: Database) -> None:
    app = create_app(make_settings(db, report_cache_seconds=5))
    clock = Clock()
    app.state.insights.reports.clock = clock
    with TestClient(app) as client:
        api = new_workspace_api(db, client)
        read_twice(api, "/insights/summary")
        clock.now += 5  # as old as allowed: still served
        read_twice(api, "/insights/summary")
        clock.now += 0.5
        read_afresh(api, "/insights/summary")


def test_a_zero_age_turns_the_cache_off(db: Database) -> None:
    app = create_app(make_settings(db, report_cache_seconds=0))
    with TestClient(app) as client:
        api = new_workspace_api(db, client)
        api.get("/insights/summary")
        before = counters(api)
        api.get("/insights/summary")
        assert moved(before, counters(api), HITS, report="summary") == 0


def test_a_revoked_key_is_refused_at_once_though_it_was_cached(api: Api) -> None:
    reader = api.new_key("read")
    assert api.get("/insights/summary", key=reader).status_code == 200
    assert api.get("/insights/summary", key=reader).status_code == 200  # cached now
    key_id = next(k["id"] for k in api.get("/api-keys").json()["data"] if k["scope"] == "read")
    assert api.delete(f"/api-keys/{key_id}").status_code == 204
    response = api.get("/insights/summary", key=reader)
    assert response.status_code == 401
    assert api.get("/sources", key=reader).status_code == 401


def _version(db: Database, workspace_id: uuid.UUID) -> int:
    with db.session() as session:
        query = select(WorkspaceVersion.version).where(
            WorkspaceVersion.workspace_id == workspace_id
        )
        return int(session.scalars(query).one_or_none() or 0)


def test_a_rolled_back_write_leaves_the_version(db: Database, api: Api) -> None:
    before = _version(db, api.workspace_id)
    with db.session() as session, session.begin():
        session.add(
            Source(workspace_id=api.workspace_id, name="x", status="connected", source_type="s3")
        )
        session.flush()
        session.rollback()
    assert _version(db, api.workspace_id) == before
    api.create("sources", name="Kept", source_type="s3")
    assert _version(db, api.workspace_id) == before + 1


def test_using_a_key_leaves_the_version(db: Database, api: Api) -> None:
    reader = api.new_key("read")
    before = _version(db, api.workspace_id)
    assert api.get("/sources", key=reader).status_code == 200  # stamps last_used_at
    assert api.get("/api-keys").json()["data"][0]["last_used_at"] is not None
    assert _version(db, api.workspace_id) == before


@pytest.mark.parametrize("report", ["summary", "activation-coverage"])
def test_every_answer_is_the_reports_json(api: Api, report: str) -> None:
    response = api.get(f"/insights/{report}")
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json(), dict)
