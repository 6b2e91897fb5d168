"""The observability endpoints over HTTP (contract 8, with sections 1, 2 and 5): their
parameters, errors, defaults and shapes; the SLA targets on the write side and import."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.cli import run_cli
from tests.support.databases import Database

ENDPOINTS = ["sync-duration", "sync-throughput", "sync-sla", "audience-velocity"]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _syncs(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    source = api.create("sources", name="W", source_type="snowflake")
    model = api.create("models", name="M", source_id=source["id"])
    destination = api.create("destinations", name="D", destination_type="salesforce")
    audience = api.create("audiences", name="A")
    sync = api.create(
        "syncs",
        name="B model sync",
        model_id=model["id"],
        destination_id=destination["id"],
        schedule="0 */2 * * *",
        sla_freshness_minutes=240,
        sla_duration_seconds=60,
    )
    audience_sync = api.create(
        "audience-syncs",
        name="A audience sync",
        audience_id=audience["id"],
        destination_id=destination["id"],
    )
    return sync, audience_sync


def _run(api: Api, kind: str, sync_id: str, started: datetime, seconds: int, **fields: Any) -> Any:
    body = {
        "status": "completed",
        "started_at": _iso(started),
        "completed_at": _iso(started + timedelta(seconds=seconds)),
        **fields,
    }
    response = api.post(f"/{kind}/{sync_id}/runs", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("days", ["0", "366", "7.5", "x", "-1"])
def test_days_outside_1_to_365_is_400_naming_days(api: Api, endpoint: str, days: str) -> None:
    response = api.get(f"/insights/{endpoint}", params={"days": days})
    assert response.status_code == 400
    assert "days" in response.json()["error"]


@pytest.mark.parametrize("endpoint", ["sync-duration", "sync-throughput"])
def test_sync_ids_are_checked_as_uuids_and_as_this_workspaces(
    api: Api, other_api: Api, endpoint: str
) -> None:
    malformed = api.get(f"/insights/{endpoint}", params={"sync_ids": "not-a-uuid"})
    assert malformed.status_code == 400 and "not-a-uuid" in malformed.json()["error"]
    foreign, _ = _syncs(other_api)
    response = api.get(f"/insights/{endpoint}", params={"sync_ids": foreign["id"]})
    assert response.status_code == 404
    assert response.json()["error"] == f"Sync {foreign['id']} does not exist."


def test_audience_ids_of_velocity_are_checked(api: Api) -> None:
    missing = uuid.uuid4()
    response = api.get("/insights/audience-velocity", params={"audience_ids": str(missing)})
    assert response.status_code == 404 and str(missing) in response.json()["error"]


def test_the_endpoints_default_to_30_days_and_read_both_sync_kinds(api: Api) -> None:
    sync, audience_sync = _syncs(api)
    now = datetime.now(UTC).replace(microsecond=0)
    _run(api, "syncs", sync["id"], now - timedelta(days=29), 100, rows_created=1000)
    _run(api, "syncs", sync["id"], now - timedelta(days=31), 100, rows_created=1000)
    _run(api, "audience-syncs", audience_sync["id"], now - timedelta(hours=2), 50, rows_updated=10)
    duration = api.get("/insights/sync-duration").json()["syncs"]
    assert [entry["sync_name"] for entry in duration] == ["A audience sync", "B model sync"]
    assert [entry["runs"] for entry in duration] == [1, 1]  # the 31-day-old run is out
    throughput = api.get("/insights/sync-throughput").json()["syncs"]
    assert [entry["rows_synced"] for entry in throughput] == [10, 1000]
    sla = api.get("/insights/sync-sla").json()
    assert sla["syncs_with_sla"] == 1 and sla["syncs"][0]["sync_id"] == sync["id"]
    assert sla["syncs"][0]["duration_breaches"] == 1  # 100 s against 60 s
    velocity = api.get("/insights/audience-velocity").json()
    assert [entry["audience_name"] for entry in velocity["audiences"]] == ["A"]


def test_sync_health_carries_the_score_and_the_status_counts(api: Api) -> None:
    sync, audience_sync = _syncs(api)
    _run(api, "syncs", sync["id"], datetime.now(UTC) - timedelta(hours=1), 30)
    body = api.get("/insights/sync-health").json()
    assert body["health_statuses"] == {
        "healthy": 1,
        "warning": 0,
        "degraded": 0,
        "critical": 0,
        "no_data": 1,  # the audience-sync never ran
        "paused": 0,
    }
    by_id = {entry["sync_id"]: entry for entry in body["syncs"]}
    assert by_id[sync["id"]]["health_score"] == 100
    assert by_id[sync["id"]]["health_components"] == {
        "success": 40.0,
        "error_trend": 20.0,
        "latency": 20.0,
        "freshness": 20.0,
    }
    assert by_id[audience_sync["id"]]["health_status"] == "no_data"
    assert by_id[audience_sync["id"]]["health_components"] is None


def test_the_sync_detail_holds_the_entries_of_every_report(api: Api) -> None:
    sync, audience_sync = _syncs(api)
    now = datetime.now(UTC).replace(microsecond=0)
    runs = [
        _run(api, "syncs", sync["id"], now - timedelta(hours=hours), 30 + hours, rows_created=5)
        for hours in range(1, 56)
    ]
    detail = api.get(f"/insights/syncs/{sync['id']}", params={"days": "7"})
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert (body["sync_kind"], body["schedule"], body["status"]) == (
        "sync",
        "0 */2 * * *",
        "active",
    )
    health = next(
        e for e in api.get("/insights/sync-health").json()["syncs"] if e["sync_id"] == sync["id"]
    )
    assert {key: body[key] for key in health} == health
    duration = api.get("/insights/sync-duration", params={"days": "7", "sync_ids": sync["id"]})
    assert body["duration"] == duration.json()["syncs"][0]
    throughput = api.get("/insights/sync-throughput", params={"days": "7", "sync_ids": sync["id"]})
    assert body["throughput"] == throughput.json()["syncs"][0]
    assert body["sla"] == api.get("/insights/sync-sla", params={"days": "7"}).json()["syncs"][0]
    assert len(body["score_history"]) in (7, 8)  # the dates the last 7 x 24 h touch
    assert body["score_history"][-1]["health_score"] == body["health_score"]
    listed = api.get(f"/syncs/{sync['id']}/runs", params={"page_size": 50}).json()["data"]
    assert body["recent_runs"] == listed and len(listed) == 50
    assert listed[0]["id"] == runs[0]["id"]  # newest first
    assert body["health_inputs"]["latest_duration_seconds"] == 31
    other = api.get(f"/insights/syncs/{audience_sync['id']}").json()
    assert (other["sync_kind"], other["sla"], other["recent_runs"]) == ("audience_sync", None, [])


def test_an_unknown_sync_has_no_detail(api: Api) -> None:
    missing = uuid.uuid4()
    response = api.get(f"/insights/syncs/{missing}")
    assert response.status_code == 404
    assert response.json()["error"] == f"Sync {missing} does not exist."
    assert api.get("/insights/syncs/nope").status_code == 400


def test_a_read_key_reads_and_no_key_does_not(api: Api) -> None:
    read_key = api.new_key("read")
    for endpoint in ENDPOINTS:
        assert api.get(f"/insights/{endpoint}", key=read_key).status_code == 200
        no_key = api.client.get(f"{api.base}/insights/{endpoint}")
        assert no_key.status_code == 401


# --- the SLA targets on the write side ---------------------------------------------------


@pytest.mark.parametrize("kind", ["syncs", "audience-syncs"])
def test_sla_targets_are_stored_changed_and_cleared(api: Api, kind: str) -> None:
    sync, audience_sync = _syncs(api)
    target = sync if kind == "syncs" else audience_sync
    changed = api.put(f"/{kind}/{target['id']}", json={"sla_freshness_minutes": 15})
    assert changed.status_code == 200 and changed.json()["sla_freshness_minutes"] == 15
    cleared = api.put(f"/{kind}/{target['id']}", json={"sla_freshness_minutes": None})
    assert cleared.json()["sla_freshness_minutes"] is None
    assert api.get(f"/{kind}/{target['id']}").json()["sla_duration_seconds"] == (
        60 if kind == "syncs" else None
    )


@pytest.mark.parametrize("value", [0, -5, "10", 1.5, True, 2**31])
def test_an_sla_target_is_a_whole_number_of_at_least_1(api: Api, value: Any) -> None:
    sync, _ = _syncs(api)
    response = api.put(f"/syncs/{sync['id']}", json={"sla_duration_seconds": value})
    assert response.status_code == 400
    assert "sla_duration_seconds" in response.json()["error"]


def test_the_import_takes_sla_targets(api: Api, db: Database, tmp_path: Path) -> None:
    sync, _ = _syncs(api)
    line = {
        "type": "sync",
        "name": "Imported",
        "model_id": sync["model_id"],
        "destination_id": sync["destination_id"],
        "sla_freshness_minutes": 90,
    }
    path = tmp_path / "history.ndjson"
    path.write_text(json.dumps(line) + "\n")
    result = run_cli(db.url, "import", str(path), "--workspace", str(api.workspace_id))
    assert result.returncode == 0, result.stderr
    names = {s["name"]: s for s in api.get("/syncs").json()["data"]}
    assert names["Imported"]["sla_freshness_minutes"] == 90
