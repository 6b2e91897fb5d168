"""The seven resource kinds through the generic router (contract 4.1), on both databases."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from insights.kinds import KINDS
from insights.models import (
    AudienceEvaluation,
    LoaderRun,
    MemberBitmap,
    ResourceColumns,
    SyncRun,
)
from tests.support import factories
from tests.support.api import Api
from tests.support.databases import Database

ALL_KINDS = sorted(KINDS)
# The contract's status values per kind, default first.
STATUSES = {
    "sources": ["connected", "error"],
    "models": ["active", "inactive", "error"],
    "destinations": ["connected", "error"],
    "audiences": ["active", "inactive", "error"],
    "syncs": ["active", "paused", "error"],
    "audience-syncs": ["active", "paused", "error"],
    "loaders": ["active", "paused", "error"],
}
# Plain required fields (references are made by `required_fields`).
REQUIRED_TEXT = {
    "sources": {"source_type": "snowflake"},
    "destinations": {"destination_type": "google_ads"},
    "loaders": {"loader_type": "s3"},
}
REFERENCES = {
    "models": {"source_id": "sources"},
    "syncs": {"model_id": "models", "destination_id": "destinations"},
    "audience-syncs": {"audience_id": "audiences", "destination_id": "destinations"},
}
OPTIONAL_REFERENCES = {"audiences": ["parent_model_id"], "loaders": ["source_id"]}
DERIVED = {
    "syncs": {"last_run_id", "last_run_status", "last_run_at"},
    "audience-syncs": {"last_run_id", "last_run_status", "last_run_at"},
    "audiences": {"current_size", "evaluated_at"},
    "loaders": {"last_run_at"},
}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
T0 = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


def required_fields(api: Api, kind: str) -> dict[str, Any]:
    """The fields a create of `kind` needs, references made through the API."""
    fields: dict[str, Any] = dict(REQUIRED_TEXT.get(kind, {}))
    for field, target in REFERENCES.get(kind, {}).items():
        fields[field] = api.create(target, name=f"{target} target", **required_fields(api, target))[
            "id"
        ]
    return fields


def new(api: Api, kind: str, **fields: Any) -> dict[str, Any]:
    return api.create(kind, **{"name": f"A {kind}", **required_fields(api, kind), **fields})


def _error(response: httpx2.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])


# --- create -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_create_returns_201_with_defaults_and_keeps_a_chosen_id_and_the_name(
    api: Api, kind: str
) -> None:
    fields = required_fields(api, kind)
    response = api.post(f"/{kind}", json={"name": "First", **fields})
    assert response.status_code == 201, response.text
    body = response.json()
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert body["workspace_id"] == str(api.workspace_id)
    assert body["name"] == "First"
    assert body["status"] == STATUSES[kind][0]
    assert body["status_error"] is None
    assert TIMESTAMP.match(body["created_at"]) and TIMESTAMP.match(body["updated_at"])
    for field, value in fields.items():
        assert body[field] == value
    for field in DERIVED.get(kind, ()):
        assert body[field] is None, field
    assert api.get(f"/{kind}/{body['id']}").json() == body
    chosen = str(uuid.uuid4())
    assert new(api, kind, id=chosen)["id"] == chosen
    assert api.get(f"/{kind}/{chosen}").json()["id"] == chosen
    for name in ("n", "n" * 255, "Ünïcødé ✓ 名前"):  # 1 to 255 characters, kept as sent
        assert api.create(kind, **fields, name=name)["name"] == name


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_create_retry_is_200_with_same_content_and_409_with_other_content(
    api: Api, kind: str
) -> None:
    request = {"id": str(uuid.uuid4()), "name": "Retry", **required_fields(api, kind)}
    first = api.post(f"/{kind}", json=request)
    assert first.status_code == 201
    again = api.post(f"/{kind}", json=request)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    message = _error(api.post(f"/{kind}", json={**request, "name": "Changed"}), 409)
    assert request["id"] in message
    assert api.get(f"/{kind}/{request['id']}").json() == first.json()
    assert api.get(f"/{kind}").json()["pagination"]["total"] == 1


WRONG_VALUES = [
    ("colour", "red"),  # unknown field
    ("name", 5),
    ("name", None),
    ("name", ["x"]),
    ("name", ""),
    ("name", "n" * 256),
    ("status", "sleeping"),
    ("status", 1),
    ("status_error", 7),
    ("name", "nul\x00byte"),  # PostgreSQL text cannot hold it: a 400 on both databases
    ("status_error", "\x00"),
    ("id", "not-a-uuid"),
    ("id", 12),
]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_invalid_create_is_400_naming_the_field_and_stores_nothing(api: Api, kind: str) -> None:
    full = {"name": "X", **required_fields(api, kind)}
    wrong = [*WRONG_VALUES, *((field, 5) for field in full)]
    references = [*REFERENCES.get(kind, {}), *OPTIONAL_REFERENCES.get(kind, [])]
    wrong += [(field, "12345") for field in references]
    for field, value in wrong:
        message = _error(api.post(f"/{kind}", json={**full, field: value}), 400)
        assert field in message, (field, value, message)
    for field in references:
        missing = str(uuid.uuid4())  # well formed, but names no object
        message = _error(api.post(f"/{kind}", json={**full, field: missing}), 400)
        assert field in message and missing in message, message
    for field in full:
        body = {k: v for k, v in full.items() if k != field}
        message = _error(api.post(f"/{kind}", json=body), 400)
        assert field in message and "required" in message, message
    assert api.get(f"/{kind}").json()["pagination"]["total"] == 0


def test_audience_estimated_size_must_be_a_count(api: Api) -> None:
    for value in (-1, "5", 1.5, True, 2**63, 10**30):  # 2**63 does not fit a BIGINT
        message = _error(api.post("/audiences", json={"name": "A", "estimated_size": value}), 400)
        assert "estimated_size" in message
    created = api.create("audiences", name="A", estimated_size=0, description="d")
    assert created["estimated_size"] == 0 and created["description"] == "d"
    assert (
        api.create("audiences", name="B", estimated_size=2**63 - 1)["estimated_size"] == 2**63 - 1
    )


@pytest.mark.parametrize("kind", ["syncs", "audience-syncs"])
def test_sync_mode_is_at_most_64_characters(api: Api, kind: str) -> None:
    fields = {"name": "S", **required_fields(api, kind)}
    assert "sync_mode" in _error(api.post(f"/{kind}", json={**fields, "sync_mode": "m" * 65}), 400)
    created = api.create(kind, **fields, sync_mode="m" * 64, schedule="s" * 255)
    assert created["sync_mode"] == "m" * 64


def test_create_with_a_body_that_is_not_a_json_object_is_400(api: Api) -> None:
    for body in ("[]", '"text"', "42", "null", "[{}]"):
        response = api.post("/sources", content=body, headers={"Content-Type": "application/json"})
        assert "object" in _error(response, 400), body
    assert api.get("/sources").json()["pagination"]["total"] == 0


# --- list -------------------------------------------------------------------------------


class Maker(Protocol):
    """A `factories.make_*` of a resource kind."""

    def __call__(
        self, session: Session, workspace_id: uuid.UUID, **fields: Any
    ) -> ResourceColumns: ...


MAKERS: dict[str, Maker] = {
    "sources": factories.make_source,
    "models": factories.make_model,
    "destinations": factories.make_destination,
    "audiences": factories.make_audience,
    "syncs": factories.make_sync,
    "audience-syncs": factories.make_audience_sync,
    "loaders": factories.make_loader,
}


def insert(db: Database, api: Api, kind: str, count: int, **fields: Any) -> list[str]:
    """`count` objects, each a minute newer than the one before; their ids oldest first."""
    ids: list[str] = []
    with db.session() as session, session.begin():
        for i in range(count):
            created = T0 + timedelta(minutes=i)
            obj = MAKERS[kind](
                session, api.workspace_id, name=f"n{i}", created_at=created, **fields
            )
            ids.append(str(obj.id))
    return ids


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_list_pages_newest_first_and_filters_by_status(db: Database, api: Api, kind: str) -> None:
    default, *others = STATUSES[kind]
    ids = insert(db, api, kind, 25)
    newest_first = ids[::-1]
    body = api.get(f"/{kind}").json()
    assert body["pagination"] == {"page": 1, "page_size": 20, "total": 25}
    assert [o["id"] for o in body["data"]] == newest_first[:20]
    second = api.get(f"/{kind}", params={"page": 2}).json()
    assert [o["id"] for o in second["data"]] == newest_first[20:]
    assert second["pagination"] == {"page": 2, "page_size": 20, "total": 25}
    small = api.get(f"/{kind}", params={"page": 3, "page_size": 10}).json()
    assert [o["id"] for o in small["data"]] == newest_first[20:]
    beyond = api.get(f"/{kind}", params={"page": 9}).json()
    assert beyond["data"] == [] and beyond["pagination"]["total"] == 25
    by_status = {status: insert(db, api, kind, 2, status=status) for status in others}
    by_status[default] = ids
    for status, status_ids in by_status.items():
        listed = api.get(f"/{kind}", params={"status": status, "page_size": 100}).json()
        assert sorted(o["id"] for o in listed["data"]) == sorted(status_ids), status
        assert listed["pagination"]["total"] == len(status_ids)
    assert "status" in _error(api.get(f"/{kind}", params={"status": "bogus"}), 400)


def test_list_orders_objects_created_in_the_same_instant_by_id(db: Database, api: Api) -> None:
    with db.session() as session, session.begin():
        ids = [
            str(factories.make_source(session, api.workspace_id, created_at=T0).id)
            for _ in range(5)
        ]
    listed = [o["id"] for o in api.get("/sources").json()["data"]]
    assert listed == sorted(ids)


def test_page_size_is_at_most_100(db: Database, api: Api) -> None:
    insert(db, api, "sources", 101)
    body = api.get("/sources", params={"page_size": 100}).json()
    assert len(body["data"]) == 100
    assert body["pagination"] == {"page": 1, "page_size": 100, "total": 101}
    assert "page_size" in _error(api.get("/sources", params={"page_size": 101}), 400)


def test_bad_pagination_parameter_is_400_naming_it(api: Api) -> None:
    for param, value in [
        ("page", 0),
        ("page", -1),
        ("page", "x"),
        ("page_size", 0),
        ("page_size", "ten"),
        ("page_size", 1.5),
        ("page", ""),
        ("page", 10**20),  # its row offset would not fit a 64-bit integer
    ]:
        assert param in _error(api.get("/sources", params={param: value}), 400), (param, value)


# --- get, update, delete --------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_update_changes_the_fields_present_and_keeps_the_rest(api: Api, kind: str) -> None:
    created = new(api, kind, status_error="boom")
    new_status = STATUSES[kind][-1]
    response = api.put(f"/{kind}/{created['id']}", json={"name": "Renamed", "status": new_status})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["status"] == new_status
    unchanged = {k: v for k, v in created.items() if k not in ("name", "status", "updated_at")}
    assert {k: body[k] for k in unchanged} == unchanged
    assert body["updated_at"] >= created["updated_at"]
    assert api.get(f"/{kind}/{created['id']}").json() == body
    cleared = api.put(f"/{kind}/{created['id']}", json={"status_error": None}).json()
    assert cleared["status_error"] is None
    assert cleared["name"] == "Renamed"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_invalid_update_is_400_and_changes_nothing(api: Api, kind: str) -> None:
    created = new(api, kind)
    path = f"/{kind}/{created['id']}"
    required = ["name", "status", *REQUIRED_TEXT.get(kind, {}), *REFERENCES.get(kind, {})]
    for field in required:
        message = _error(api.put(path, json={field: None}), 400)
        assert field in message, message
    for field, value in [
        ("colour", "red"),
        ("name", 3),
        ("name", ""),
        ("status", "bogus"),
        ("id", str(uuid.uuid4())),
        ("workspace_id", str(uuid.uuid4())),
    ]:
        assert field in _error(api.put(path, json={field: value}), 400), (field, value)
    assert api.get(path).json() == created


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_delete_is_204_and_then_the_object_is_404_everywhere(api: Api, kind: str) -> None:
    created = new(api, kind)
    response = api.delete(f"/{kind}/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    for method in ("GET", "PUT", "DELETE"):
        message = _error(api.request(method, f"/{kind}/{created['id']}", json={"name": "X"}), 404)
        assert created["id"] in message
    assert created["id"] not in api.get(f"/{kind}").text


def test_delete_of_a_referenced_object_is_409_naming_a_referrer(api: Api) -> None:
    source = new(api, "sources")
    model = api.create("models", name="M", source_id=source["id"])
    loader = api.create("loaders", name="L", loader_type="s3", source_id=source["id"])
    destination = new(api, "destinations")
    audience = api.create("audiences", name="Au", parent_model_id=model["id"])
    sync = api.create("syncs", name="S", model_id=model["id"], destination_id=destination["id"])
    audience_sync = api.create(
        "audience-syncs", name="AS", audience_id=audience["id"], destination_id=destination["id"]
    )
    referred = [
        ("sources", source["id"], {model["id"], loader["id"]}),
        ("models", model["id"], {audience["id"], sync["id"]}),
        ("destinations", destination["id"], {sync["id"], audience_sync["id"]}),
        ("audiences", audience["id"], {audience_sync["id"]}),
    ]
    for kind, rid, referrer_ids in referred:
        message = _error(api.delete(f"/{kind}/{rid}"), 409)
        assert any(r in message for r in referrer_ids), message
        assert api.get(f"/{kind}/{rid}").status_code == 200
    # Once the referrers are gone, the deletes go through.
    for kind, rid in [
        ("audience-syncs", audience_sync["id"]),
        ("syncs", sync["id"]),
        ("audiences", audience["id"]),
        ("loaders", loader["id"]),
        ("models", model["id"]),
        ("destinations", destination["id"]),
        ("sources", source["id"]),
    ]:
        assert api.delete(f"/{kind}/{rid}").status_code == 204, kind


def _run_body(**fields: Any) -> dict[str, Any]:
    return {
        "status": "completed",
        "started_at": "2024-01-15T10:00:00Z",
        "completed_at": "2024-01-15T10:01:00Z",
        **fields,
    }


@pytest.mark.parametrize(
    ("kind", "table"), [("syncs", SyncRun), ("audience-syncs", SyncRun), ("loaders", LoaderRun)]
)
def test_delete_of_a_sync_or_loader_deletes_its_runs(
    db: Database, api: Api, kind: str, table: type[SyncRun] | type[LoaderRun]
) -> None:
    doomed, kept = new(api, kind), new(api, kind)
    for parent in (doomed, kept):
        for _ in range(3):
            assert api.post(f"/{kind}/{parent['id']}/runs", json=_run_body()).status_code == 201
    assert api.delete(f"/{kind}/{doomed['id']}").status_code == 204
    with db.session() as session:
        column = table.loader_id if issubclass(table, LoaderRun) else table.sync_id
        counts = dict(session.execute(select(column, func.count()).group_by(column)).tuples().all())
    assert {str(k): v for k, v in counts.items()} == {kept["id"]: 3}


def test_delete_of_an_audience_deletes_its_evaluations_and_members(db: Database, api: Api) -> None:
    doomed, kept = new(api, "audiences"), new(api, "audiences")
    for audience in (doomed, kept):
        path = f"/audiences/{audience['id']}/evaluations"
        assert (
            api.post(path, json={"evaluated_at": "2024-01-01T00:00:00Z", "size": 3}).status_code
            == 201
        )
        members = {"evaluated_at": "2024-01-02T00:00:00Z", "members": ["a", "b"]}
        assert api.post(path, json=members).status_code == 201
    assert api.delete(f"/audiences/{doomed['id']}").status_code == 204
    with db.session() as session:
        evaluations = session.scalars(select(AudienceEvaluation.audience_id)).all()
        bitmaps = session.scalars(select(MemberBitmap.audience_id)).all()
    assert {str(a) for a in evaluations} == {kept["id"]} and len(evaluations) == 2
    assert [str(a) for a in bitmaps] == [kept["id"]]


def test_delete_of_an_audience_used_by_an_audience_sync_is_409(api: Api) -> None:
    audience = new(api, "audiences")
    audience_sync = new(api, "audience-syncs", audience_id=audience["id"])
    evaluation = {"evaluated_at": "2024-01-01T00:00:00Z", "size": 3}
    api.post(f"/audiences/{audience['id']}/evaluations", json=evaluation)
    assert audience_sync["id"] in _error(api.delete(f"/audiences/{audience['id']}"), 409)
    listed = api.get(f"/audiences/{audience['id']}/evaluations").json()
    assert listed["pagination"]["total"] == 1


# --- derived fields ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["syncs", "audience-syncs"])
def test_sync_last_run_is_the_run_with_the_latest_started_at(api: Api, kind: str) -> None:
    sync = new(api, kind)
    runs = f"/{kind}/{sync['id']}/runs"
    later = api.post(
        runs,
        json=_run_body(
            status="failed", started_at="2024-01-15T12:00:00Z", completed_at="2024-01-15T12:01:00Z"
        ),
    ).json()
    # Reported after, but started before: not the last run.
    api.post(
        runs, json=_run_body(started_at="2024-01-15T09:00:00Z", completed_at="2024-01-15T09:01:00Z")
    )
    body = api.get(f"/{kind}/{sync['id']}").json()
    assert body["last_run_id"] == later["id"]
    assert body["last_run_status"] == "failed"
    assert body["last_run_at"] == "2024-01-15T12:00:00Z"
    listed = api.get(f"/{kind}").json()["data"][0]
    assert listed["last_run_id"] == later["id"]
    running = api.post(runs, json={"status": "running", "started_at": "2024-01-15T13:00:00Z"})
    body = api.get(f"/{kind}/{sync['id']}").json()
    assert body["last_run_id"] == running.json()["id"]
    assert body["last_run_status"] == "running"


def test_derived_fields_of_one_sync_ignore_the_runs_of_another(api: Api) -> None:
    ran, idle = new(api, "syncs"), new(api, "syncs")
    api.post(f"/syncs/{ran['id']}/runs", json=_run_body())
    assert api.get(f"/syncs/{idle['id']}").json()["last_run_id"] is None
    by_id = {o["id"]: o for o in api.get("/syncs").json()["data"]}
    assert by_id[idle["id"]]["last_run_at"] is None
    assert by_id[ran["id"]]["last_run_at"] == "2024-01-15T10:00:00Z"


def test_audience_current_size_is_from_the_latest_evaluation(api: Api) -> None:
    audience = new(api, "audiences", estimated_size=10)
    path = f"/audiences/{audience['id']}/evaluations"
    api.post(path, json={"evaluated_at": "2024-01-10T00:00:00Z", "size": 100})
    api.post(path, json={"evaluated_at": "2024-01-12T00:00:00Z", "members": ["a", "b", "c"]})
    # A backfilled older size does not become the current one.
    api.post(path, json={"evaluated_at": "2024-01-01T00:00:00Z", "size": 999})
    body = api.get(f"/audiences/{audience['id']}").json()
    assert body["current_size"] == 3
    assert body["evaluated_at"] == "2024-01-12T00:00:00Z"
    assert body["estimated_size"] == 10
    assert api.get("/audiences").json()["data"][0]["current_size"] == 3


def test_loader_last_run_at_is_the_latest_started_at(api: Api) -> None:
    loader = new(api, "loaders")
    runs = f"/loaders/{loader['id']}/runs"
    api.post(
        runs, json=_run_body(started_at="2024-01-15T12:00:00Z", completed_at="2024-01-15T12:05:00Z")
    )
    api.post(
        runs, json=_run_body(started_at="2024-01-15T08:00:00Z", completed_at="2024-01-15T08:05:00Z")
    )
    assert api.get(f"/loaders/{loader['id']}").json()["last_run_at"] == "2024-01-15T12:00:00Z"


# --- model syncs and audience-syncs are two kinds -------------------------------------


def test_model_sync_is_not_reachable_as_an_audience_sync_and_back(api: Api) -> None:
    sync, audience_sync = new(api, "syncs"), new(api, "audience-syncs")
    for kind, other in (("audience-syncs", sync), ("syncs", audience_sync)):
        path = f"/{kind}/{other['id']}"
        _error(api.get(path), 404)
        _error(api.put(path, json={"name": "X"}), 404)
        _error(api.delete(path), 404)
        _error(api.get(f"{path}/runs"), 404)
        _error(api.post(f"{path}/runs", json=_run_body()), 404)
        assert other["id"] not in api.get(f"/{kind}").text
    assert api.get("/syncs").json()["pagination"]["total"] == 1
    assert api.get("/audience-syncs").json()["pagination"]["total"] == 1


def test_create_reusing_the_id_of_the_other_sync_kind_is_409(api: Api) -> None:
    sync = new(api, "syncs")
    fields = required_fields(api, "audience-syncs")
    body = {"id": sync["id"], "name": sync["name"], **fields}
    _error(api.post("/audience-syncs", json=body), 409)
    assert api.get(f"/syncs/{sync['id']}").json() == sync


# --- malformed UUIDs ---------------------------------------------------------------------


def test_malformed_uuid_in_the_path_is_400_not_500(api: Api) -> None:
    calls = [
        ("GET", "/sources/not-a-uuid"),
        ("PUT", "/models/123"),
        ("DELETE", "/loaders/x"),
        ("GET", "/syncs/123/runs"),
        ("POST", "/audience-syncs/x/runs"),
        ("POST", "/audiences/zz/evaluations"),
        ("GET", "/audiences/zz/evaluations"),
        ("DELETE", "/api-keys/nope"),
    ]
    for method, path in calls:
        message = _error(api.request(method, path, json={}), 400)
        assert "UUID" in message or "uuid" in message, (method, path, message)


def test_malformed_uuid_of_a_run_is_400(api: Api) -> None:
    sync = new(api, "syncs")
    response = api.get(f"/syncs/{sync['id']}/runs/{'0' * 31}")
    assert "run_id" in _error(response, 400)


def test_malformed_workspace_id_in_the_path_is_400(api: Api) -> None:
    response = api.client.get(
        "/api/v1/workspaces/not-a-uuid/sources",
        headers={"Authorization": f"Bearer {api.key}", "X-Workspace-ID": "not-a-uuid"},
    )
    _error(response, 400)
