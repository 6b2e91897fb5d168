"""The five Insights endpoints over HTTP: parameters, status codes, and that each route
answers with its report for the caller's workspace only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import Api

INSIGHTS = "/insights"


def _audience_with_members(api: Api, name: str, keys: list[str]) -> str:
    audience = api.create("audiences", name=name)
    response = api.post(f"/audiences/{audience['id']}/evaluations", json={"members": keys})
    assert response.status_code == 201, response.text
    return str(audience["id"])


@pytest.mark.parametrize("days", ["0", "366", "-1", "7.0", "abc", "", " 7", "1e2"])
@pytest.mark.parametrize("endpoint", ["sync-health", "audience-trends"])
def test_days_outside_1_to_365_or_not_an_integer_is_400(api: Api, endpoint: str, days: str) -> None:
    response = api.get(f"{INSIGHTS}/{endpoint}", params={"days": days})
    assert response.status_code == 400
    assert "days" in response.json()["error"]


@pytest.mark.parametrize("days", ["1", "365"])
def test_days_at_the_bounds_are_accepted(api: Api, days: str) -> None:
    assert api.get(f"{INSIGHTS}/sync-health", params={"days": days}).status_code == 200


def test_malformed_audience_id_is_400_naming_it(api: Api) -> None:
    response = api.get(f"{INSIGHTS}/audience-trends", params={"audience_ids": "not-a-uuid"})
    assert response.status_code == 400
    assert "not-a-uuid" in response.json()["error"]


def test_unknown_audience_in_trends_is_404_naming_it(api: Api) -> None:
    unknown = str(uuid.uuid4())
    response = api.get(f"{INSIGHTS}/audience-trends", params={"audience_ids": unknown})
    assert response.status_code == 404
    assert unknown in response.json()["error"]


def test_other_workspaces_audience_is_404_not_its_data(api: Api, other_api: Api) -> None:
    theirs = _audience_with_members(other_api, "Theirs", ["a", "b"])
    mine = _audience_with_members(api, "Mine", ["a"])
    for endpoint in ("audience-trends", "audience-overlap"):
        response = api.get(f"{INSIGHTS}/{endpoint}", params={"audience_ids": f"{mine},{theirs}"})
        assert response.status_code == 404
        assert theirs in response.json()["error"]
        assert "Theirs" not in response.text


def test_trends_default_to_every_audience_by_name_and_keep_given_order(api: Api) -> None:
    b = _audience_with_members(api, "Beta", ["x"])
    a = _audience_with_members(api, "Alpha", ["x", "y"])
    default = api.get(f"{INSIGHTS}/audience-trends").json()["audiences"]
    assert [entry["audience_id"] for entry in default] == [a, b]
    given = api.get(f"{INSIGHTS}/audience-trends", params={"audience_ids": f"{b},{a},{b}"})
    assert [entry["audience_id"] for entry in given.json()["audiences"]] == [b, a]
    assert given.json()["audiences"][1]["current_size"] == 2


@pytest.mark.parametrize("count", [0, 1, 21])
def test_overlap_needs_2_to_20_audiences(api: Api, count: int) -> None:
    ids = ",".join(str(uuid.uuid4()) for _ in range(count))
    response = api.get(f"{INSIGHTS}/audience-overlap", params={"audience_ids": ids})
    assert response.status_code == 400
    assert "audience_ids" in response.json()["error"]


def test_overlap_with_a_repeated_audience_is_400(api: Api) -> None:
    a = _audience_with_members(api, "A", ["x"])
    b = _audience_with_members(api, "B", ["x"])
    response = api.get(f"{INSIGHTS}/audience-overlap", params={"audience_ids": f"{a},{b},{a}"})
    assert response.status_code == 400


def test_overlap_of_an_audience_without_member_list_is_409_naming_it(api: Api) -> None:
    a = _audience_with_members(api, "A", ["x"])
    sized = api.create("audiences", name="Sized only")
    api.post(f"/audiences/{sized['id']}/evaluations", json={"size": 10})
    response = api.get(
        f"{INSIGHTS}/audience-overlap", params={"audience_ids": f"{a},{sized['id']}"}
    )
    assert response.status_code == 409
    assert sized["id"] in response.json()["error"]


@pytest.mark.parametrize("min_count", ["0", "-3", "x", "1.5"])
def test_overlap_min_count_must_be_a_whole_number_of_at_least_1(api: Api, min_count: str) -> None:
    a = _audience_with_members(api, "A", ["x"])
    b = _audience_with_members(api, "B", ["x"])
    response = api.get(
        f"{INSIGHTS}/audience-overlap", params={"audience_ids": f"{a},{b}", "min_count": min_count}
    )
    assert response.status_code == 400
    assert "min_count" in response.json()["error"]


def test_overlap_counts_over_http(api: Api) -> None:
    a = _audience_with_members(api, "A", ["k1", "k2", "k3", "k4"])
    b = _audience_with_members(api, "B", ["k3", "k4", "k5"])
    body = api.get(f"{INSIGHTS}/audience-overlap", params={"audience_ids": f"{a},{b}"}).json()
    assert [(x["id"], x["name"], x["size"]) for x in body["audiences"]] == [
        (a, "A", 4),
        (b, "B", 3),
    ]
    assert body["overlap"] == {"size": 2, "percent_of_first": 50.0, "percent_of_second": 66.7}
    assert body["union_size"] == 5
    assert body["suppressed"] is False


def test_sync_health_counts_runs_of_both_sync_kinds(api: Api) -> None:
    source = api.create("sources", name="W", source_type="snowflake")
    model = api.create("models", name="M", source_id=source["id"])
    dest = api.create("destinations", name="D", destination_type="salesforce")
    audience = api.create("audiences", name="A")
    sync = api.create("syncs", name="S", model_id=model["id"], destination_id=dest["id"])
    async_ = api.create(
        "audience-syncs", name="AS", audience_id=audience["id"], destination_id=dest["id"]
    )
    start = datetime.now(UTC) - timedelta(hours=2)
    run = {
        "status": "failed",
        "started_at": start.isoformat(),
        "completed_at": (start + timedelta(seconds=30)).isoformat(),
    }
    assert api.post(f"/syncs/{sync['id']}/runs", json=run).status_code == 201
    assert api.post(f"/audience-syncs/{async_['id']}/runs", json=run).status_code == 201
    body = api.get(f"{INSIGHTS}/sync-health", params={"days": "1"}).json()
    assert (body["total_syncs"], body["active_syncs"], body["failing_syncs"]) == (2, 2, 2)
    assert [entry["sync_name"] for entry in body["syncs"]] == ["AS", "S"]
    assert all(entry["failed_runs"] == 1 for entry in body["syncs"])


def test_summary_and_coverage_answer_for_an_empty_workspace(api: Api) -> None:
    summary = api.get(f"{INSIGHTS}/summary").json()
    assert summary["syncs"] == {
        "total": 0,
        "active": 0,
        "paused": 0,
        "error": 0,
        "rows_synced_today": 0,
    }
    assert summary["audiences"] == {"total": 0, "active": 0, "total_members": 0}
    coverage = api.get(f"{INSIGHTS}/activation-coverage").json()
    assert coverage == {
        "total_audiences": 0,
        "activated_audiences": 0,
        "unactivated_audiences": 0,
        "destinations": [],
        "unactivated": [],
    }


def test_read_key_may_read_insights(api: Api) -> None:
    read_key = api.new_key("read")
    assert api.get(f"{INSIGHTS}/summary", key=read_key).status_code == 200
