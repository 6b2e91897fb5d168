"""Sync runs (both kinds) and loader runs (contract 4.2), on both databases."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
import pytest

from tests.support.api import Api

PARENTS = ["syncs", "audience-syncs", "loaders"]
SYNC_PARENTS = ["syncs", "audience-syncs"]
START = "2024-01-15T10:00:00Z"
END = "2024-01-15T10:02:30Z"


def make_parent(api: Api, kind: str) -> str:
    """A sync, audience-sync or loader of the workspace; its id."""
    if kind == "loaders":
        return str(api.create("loaders", name="Loader", loader_type="s3")["id"])
    destination = api.create("destinations", name="D", destination_type="google_ads")["id"]
    if kind == "syncs":
        source = api.create("sources", name="S", source_type="snowflake")["id"]
        model = api.create("models", name="M", source_id=source)["id"]
        return str(
            api.create("syncs", name="Sync", model_id=model, destination_id=destination)["id"]
        )
    audience = api.create("audiences", name="A")["id"]
    body = {"name": "ASync", "audience_id": audience, "destination_id": destination}
    return str(api.create("audience-syncs", **body)["id"])


def finished(**fields: Any) -> dict[str, Any]:
    return {"status": "completed", "started_at": START, "completed_at": END, **fields}


def _error(response: httpx2.Response, status: int) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str) and message
    return str(message)


@pytest.fixture(params=PARENTS)
def runs(request: pytest.FixtureRequest, api: Api) -> str:
    """The runs collection path of a fresh parent of each kind."""
    return f"/{request.param}/{make_parent(api, request.param)}/runs"


# --- create -----------------------------------------------------------------------------


def test_create_returns_201_with_defaults_and_derived_fields(api: Api, runs: str) -> None:
    response = api.post(runs, json={"status": "running", "started_at": START})
    assert response.status_code == 201, response.text
    body = response.json()
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert body["workspace_id"] == str(api.workspace_id)
    assert body["status"] == "running"
    assert body["trigger"] == "schedule"
    assert body["started_at"] == START
    assert body["completed_at"] is None
    assert body["duration_seconds"] is None
    assert body["error"] is None
    counts = (
        ["rows_loaded"]
        if runs.startswith("/loaders")
        else [
            "rows_processed",
            "rows_created",
            "rows_updated",
            "rows_deleted",
            "rows_failed",
            "rows_synced",
        ]
    )
    assert all(body[c] == 0 for c in counts)
    parent_field = "loader_id" if runs.startswith("/loaders") else "sync_id"
    assert body[parent_field] == runs.split("/")[2]
    assert api.get(f"{runs}/{body['id']}").json() == body


@pytest.mark.parametrize("kind", SYNC_PARENTS)
def test_sync_run_derives_duration_and_rows_synced(api: Api, kind: str) -> None:
    runs = f"/{kind}/{make_parent(api, kind)}/runs"
    counts = {
        "rows_processed": 100,
        "rows_created": 10,
        "rows_updated": 20,
        "rows_deleted": 3,
        "rows_failed": 7,
    }
    body = api.post(runs, json=finished(trigger="manual", **counts)).json()
    assert body["duration_seconds"] == 150
    assert body["rows_synced"] == 33
    assert body["trigger"] == "manual"
    assert {k: body[k] for k in counts} == counts


def test_loader_run_has_rows_loaded_and_no_sync_counts(api: Api) -> None:
    runs = f"/loaders/{make_parent(api, 'loaders')}/runs"
    body = api.post(runs, json=finished(rows_loaded=5000, trigger="api")).json()
    assert body["rows_loaded"] == 5000
    assert body["duration_seconds"] == 150
    assert "rows_synced" not in body
    assert "rows_created" in _error(api.post(runs, json=finished(rows_created=1)), 400)


def test_invalid_create_is_400_naming_the_field_and_stores_nothing(api: Api, runs: str) -> None:
    for field in ("status", "started_at"):
        body = {k: v for k, v in finished().items() if k != field}
        message = _error(api.post(runs, json=body), 400)
        assert field in message and "required" in message
    count = "rows_loaded" if runs.startswith("/loaders") else "rows_created"
    wrong = [
        ("status", "done"),
        ("trigger", "cron"),
        ("started_at", "yesterday"),
        ("started_at", 1705312800),
        ("started_at", "9999-12-31T23:00:00-05:00"),  # past the last representable year
        (count, 2**63),  # does not fit a BIGINT
        (count, -1),
        (count, "5"),
        (count, 1.5),
        ("error", 5),
        ("id", "run-1"),
        ("colour", "red"),
    ]
    # A timestamp without a zone is refused, whatever its shape.
    for naive in ("2024-01-15T10:00:00", "2024-01-15 10:00:00", "2024-01-15"):
        wrong += [("started_at", naive), ("completed_at", naive)]
    for field, value in wrong:
        message = _error(api.post(runs, json=finished(**{field: value})), 400)
        assert field in message, (field, value, message)
    assert api.get(runs).json()["pagination"]["total"] == 0


def test_completed_at_is_required_exactly_when_finished_and_not_before_start(
    api: Api, runs: str
) -> None:
    for status in ("completed", "failed", "cancelled"):
        body = {"status": status, "started_at": START}
        assert "completed_at" in _error(api.post(runs, json=body), 400)
        assert api.post(runs, json={**body, "completed_at": END}).status_code == 201
    for status in ("queued", "running"):
        body = {"status": status, "started_at": START, "completed_at": END}
        assert "completed_at" in _error(api.post(runs, json=body), 400)
        assert api.post(runs, json={**body, "completed_at": None}).status_code == 201
    message = _error(api.post(runs, json=finished(completed_at="2024-01-15T09:59:59Z")), 400)
    assert "completed_at" in message and "started_at" in message
    same = api.post(runs, json=finished(completed_at=START))
    assert same.status_code == 201
    assert same.json()["duration_seconds"] == 0
    assert api.get(runs).json()["pagination"]["total"] == 6


def test_timestamps_are_converted_to_utc_whole_seconds(api: Api, runs: str) -> None:
    body = finished(
        started_at="2024-01-15T12:00:00.750+02:00", completed_at="2024-01-15T05:30:00-05:00"
    )
    response = api.post(runs, json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["started_at"] == "2024-01-15T10:00:00Z"
    assert created["completed_at"] == "2024-01-15T10:30:00Z"
    assert created["duration_seconds"] == 1800
    assert created["created_at"].endswith("Z")


# --- idempotency ---------------------------------------------------------------------------


def test_create_retry_is_200_with_same_content_and_409_with_other(api: Api, runs: str) -> None:
    body = finished(id=str(uuid.uuid4()))
    first = api.post(runs, json=body)
    assert first.status_code == 201
    assert first.json()["id"] == body["id"]
    again = api.post(runs, json=body)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert body["id"] in _error(api.post(runs, json={**body, "status": "failed"}), 409)
    assert api.get(runs).json()["pagination"]["total"] == 1


def test_same_run_id_under_another_parent_is_409(api: Api) -> None:
    first = f"/syncs/{make_parent(api, 'syncs')}/runs"
    second = f"/syncs/{make_parent(api, 'syncs')}/runs"
    body = finished(id=str(uuid.uuid4()))
    assert api.post(first, json=body).status_code == 201
    _error(api.post(second, json=body), 409)
    assert api.get(second).json()["pagination"]["total"] == 0


# --- update ------------------------------------------------------------------------------


def test_update_running_to_completed_changes_only_the_fields_present(api: Api, runs: str) -> None:
    created = api.post(
        runs, json={"status": "running", "started_at": START, "trigger": "manual"}
    ).json()
    count = "rows_loaded" if runs.startswith("/loaders") else "rows_created"
    change = {"status": "completed", "completed_at": END, count: 42}
    response = api.put(f"{runs}/{created['id']}", json=change)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "completed"
    assert body["completed_at"] == END
    assert body[count] == 42
    assert body["duration_seconds"] == 150
    assert body["trigger"] == "manual"
    assert body["started_at"] == START
    assert api.get(f"{runs}/{created['id']}").json() == body


def test_finished_run_cannot_go_back_but_may_change_its_finished_status(api: Api) -> None:
    runs = f"/audience-syncs/{make_parent(api, 'audience-syncs')}/runs"
    for status in ("completed", "failed", "cancelled"):
        run = api.post(runs, json=finished(status=status)).json()
        path = f"{runs}/{run['id']}"
        for back_to in ("running", "queued"):
            message = _error(api.put(path, json={"status": back_to, "completed_at": None}), 409)
            assert run["id"] in message
            assert api.get(path).json() == run
    run = api.post(runs, json=finished()).json()
    body = api.put(f"{runs}/{run['id']}", json={"status": "failed", "error": "late"}).json()
    assert body["status"] == "failed" and body["error"] == "late"
    assert body["completed_at"] == END


def test_invalid_update_is_400_and_changes_nothing(api: Api, runs: str) -> None:
    run = api.post(runs, json={"status": "running", "started_at": START}).json()
    path = f"{runs}/{run['id']}"
    bad = [
        {"status": "completed"},  # without completed_at
        {"completed_at": END},  # while running
        {"status": None},
        {"started_at": None},
        {"status": "completed", "completed_at": "2024-01-15T09:00:00Z"},
        {"started_at": "2024-01-15T10:00:00"},
        {"status": "paused"},
        {"colour": "red"},
    ]
    for change in bad:
        _error(api.put(path, json=change), 400)
    assert api.get(path).json() == run


def test_run_is_not_reachable_under_another_parent(api: Api) -> None:
    first = f"/syncs/{make_parent(api, 'syncs')}/runs"
    second = f"/syncs/{make_parent(api, 'syncs')}/runs"
    run = api.post(first, json=finished()).json()
    _error(api.get(f"{second}/{run['id']}"), 404)
    _error(api.put(f"{second}/{run['id']}", json={"error": "x"}), 404)
    assert run["id"] not in api.get(second).text
    loader_runs = f"/loaders/{make_parent(api, 'loaders')}/runs"
    _error(api.get(f"{loader_runs}/{run['id']}"), 404)


def test_unknown_parent_or_run_is_404(api: Api) -> None:
    for kind in PARENTS:
        runs = f"/{kind}/{uuid.uuid4()}/runs"
        _error(api.get(runs), 404)
        _error(api.post(runs, json=finished()), 404)
        _error(api.get(f"{runs}/{uuid.uuid4()}"), 404)
        runs = f"/{kind}/{make_parent(api, kind)}/runs"
        missing = str(uuid.uuid4())
        assert missing in _error(api.get(f"{runs}/{missing}"), 404)
        assert missing in _error(api.put(f"{runs}/{missing}", json={"error": "x"}), 404)


# --- list --------------------------------------------------------------------------------


def _started(hour: int) -> str:
    return f"2024-01-15T{hour:02d}:00:00Z"


def test_list_is_newest_started_at_first_and_paginated(api: Api, runs: str) -> None:
    ids = {}
    for hour in (5, 1, 9, 3, 7):
        ids[hour] = api.post(runs, json={"status": "running", "started_at": _started(hour)}).json()[
            "id"
        ]
    body = api.get(runs).json()
    assert [r["id"] for r in body["data"]] == [ids[h] for h in (9, 7, 5, 3, 1)]
    assert body["pagination"] == {"page": 1, "page_size": 20, "total": 5}
    page = api.get(runs, params={"page": 2, "page_size": 2}).json()
    assert [r["id"] for r in page["data"]] == [ids[5], ids[3]]
    assert "page_size" in _error(api.get(runs, params={"page_size": 101}), 400)


def test_list_filters_by_status_since_and_until_and_refuses_bad_ones(api: Api, runs: str) -> None:
    ids = {}
    for hour, status in ((1, "failed"), (3, "completed"), (5, "failed"), (7, "completed")):
        body = {"status": status, "started_at": _started(hour), "completed_at": _started(hour + 1)}
        ids[hour] = api.post(runs, json=body).json()["id"]

    def listed(**params: str) -> list[str]:
        response = api.get(runs, params=params)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["data"]]

    assert listed(status="failed") == [ids[5], ids[1]]
    assert listed(since=_started(3)) == [ids[7], ids[5], ids[3]]  # since is inclusive
    assert listed(until=_started(5)) == [ids[3], ids[1]]  # until is exclusive
    assert listed(since=_started(3), until=_started(7), status="completed") == [ids[3]]
    assert listed(since="2024-01-15T06:00:00+02:00") == [ids[7], ids[5]]  # 04:00Z
    assert api.get(runs, params={"status": "failed"}).json()["pagination"]["total"] == 2
    for param, value in [
        ("status", "done"),
        ("since", "2024-01-15T10:00:00"),
        ("until", "yesterday"),
        ("since", "2024-13-01T00:00:00Z"),
    ]:
        assert param in _error(api.get(runs, params={param: value}), 400), (param, value)
