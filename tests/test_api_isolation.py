"""Tenant isolation: no key of one workspace reaches another's data, on any route."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from tests.support.api import Api, app_of
from tests.support.graph import (
    FINISHED,
    STARTED,
    build_graph,
    call,
    fill_path,
    workspace_routes,
)


def _secrets(api: Api, ids: dict[str, str]) -> list[str]:
    return [*ids.values(), "A source", "A model", "A audience", "a-secret-member", api.key[:12]]


def test_every_route_refuses_a_key_of_another_workspace(
    client: TestClient, api: Api, other_api: Api
) -> None:
    ids = build_graph(api)
    routes = workspace_routes(app_of(client))
    assert len(routes) >= 40  # 7 kinds x 5, runs, evaluations, keys, the workspace
    for method, template in routes:
        response = call(api, method, template, api.workspace_id, other_api.key, ids)
        assert response.status_code == 403, (method, template, response.text)
        assert set(response.json()) == {"error"}
        for secret in _secrets(api, ids):
            assert secret not in response.text, (method, template)
    assert_graph_intact(api, ids)


def assert_graph_intact(api: Api, ids: dict[str, str]) -> None:
    """Nothing of the workspace was changed or deleted by the refused calls."""
    for kind in (
        "sources",
        "models",
        "destinations",
        "audiences",
        "syncs",
        "audience-syncs",
        "loaders",
    ):
        assert api.get(f"/{kind}/{ids[kind]}").json()["name"].startswith("A "), kind
    for parent in ("syncs", "audience-syncs", "loaders"):
        run = api.get(f"/{parent}/{ids[parent]}/runs/{ids[parent + '/runs']}").json()
        assert run["error"] is None, parent
    evaluations = api.get(f"/audiences/{ids['audiences']}/evaluations").json()
    assert [e["id"] for e in evaluations["data"]] == [ids["evaluations"]]
    assert [k["status"] for k in api.get("/api-keys").json()["data"]] == ["active"]
    assert api.get("").json()["name"] == "Acme"
    rule = api.get(f"/alert-rules/{ids['alert-rules']}").json()
    assert (rule["name"], rule["enabled"], rule["channel"]["has_secret"]) == ("A rule", True, True)
    [alert] = api.get("/alerts").json()["data"]
    assert (alert["id"], alert["state"]) == (ids["alerts"], "firing")


def test_every_route_with_an_object_of_another_workspace_is_404(
    client: TestClient, api: Api, other_api: Api
) -> None:
    ids = build_graph(api)
    build_graph(other_api)  # B has objects of every kind too: none of them may answer
    for method, template in workspace_routes(app_of(client)):
        if template.count("{") == 1:
            continue  # only the workspace in the path: nothing of A to name
        response = call(other_api, method, template, other_api.workspace_id, other_api.key, ids)
        assert response.status_code == 404, (method, template, response.text)
        asked = fill_path(template, other_api.workspace_id, ids)
        for secret in _secrets(api, ids):
            # The 404 may name the ID that was asked for, nothing else of A.
            if secret not in asked:
                assert secret not in response.text, (method, template)
    assert_graph_intact(api, ids)


def test_all_workspace_routes_are_covered_by_the_walk(client: TestClient) -> None:
    params: set[str] = set()
    for _method, template in workspace_routes(app_of(client)):
        params.update(re.findall(r"\{(\w+)\}", template))
    assert params <= {
        "workspace_id",
        "resource_id",
        "parent_id",
        "run_id",
        "audience_id",
        "key_id",
        "sync_id",  # insights/syncs/{sync_id}: filled with the walk's model sync
        "rule_id",
        "alert_id",
    }, params


REFERENCES = [
    ("models", "source_id", "sources", {"name": "M"}),
    ("audiences", "parent_model_id", "models", {"name": "Au"}),
    ("syncs", "model_id", "models", {"name": "S"}),
    ("syncs", "destination_id", "destinations", {"name": "S"}),
    ("audience-syncs", "audience_id", "audiences", {"name": "AS"}),
    ("audience-syncs", "destination_id", "destinations", {"name": "AS"}),
    ("loaders", "source_id", "sources", {"name": "L", "loader_type": "s3"}),
]


def test_reference_to_an_object_of_another_workspace_is_400(api: Api, other_api: Api) -> None:
    theirs = build_graph(other_api)
    ours = build_graph(api)
    for kind, field, target, base in REFERENCES:
        body = {**base, **_required_refs(kind, ours), field: theirs[target]}
        response = api.post(f"/{kind}", json=body)
        assert response.status_code == 400, (kind, field, response.text)
        assert field in response.json()["error"]
        assert theirs[target] in response.json()["error"]
        assert api.get(f"/{kind}").json()["pagination"]["total"] == 1, kind


def test_update_to_a_reference_of_another_workspace_is_400(api: Api, other_api: Api) -> None:
    theirs = build_graph(other_api)
    ours = build_graph(api)
    for kind, field, target, _base in REFERENCES:
        response = api.put(f"/{kind}/{ours[kind]}", json={field: theirs[target]})
        assert response.status_code == 400, (kind, field, response.text)
        assert field in response.json()["error"]
        stored = api.get(f"/{kind}/{ours[kind]}").json()
        assert stored[field] != theirs[target]


def _required_refs(kind: str, ids: dict[str, str]) -> dict[str, str]:
    return {
        "models": {"source_id": ids["sources"]},
        "syncs": {"model_id": ids["models"], "destination_id": ids["destinations"]},
        "audience-syncs": {"audience_id": ids["audiences"], "destination_id": ids["destinations"]},
    }.get(kind, {})


LISTS = [
    "sources",
    "models",
    "destinations",
    "audiences",
    "syncs",
    "audience-syncs",
    "loaders",
    "api-keys",
    "alert-rules",
]


def test_lists_never_show_another_workspaces_objects(api: Api, other_api: Api) -> None:
    ours = build_graph(api)
    theirs = build_graph(other_api)
    for path in LISTS:
        body = api.get(f"/{path}").json()
        listed = {item["id"] for item in body["data"]}
        assert ours[path] in listed, path
        assert theirs[path] not in listed, path
        assert body["pagination"]["total"] == 1, path
        assert all(item["workspace_id"] == str(api.workspace_id) for item in body["data"])
    for parent in ("syncs", "audience-syncs", "loaders"):
        runs = api.get(f"/{parent}/{ours[parent]}/runs").json()
        expected = [ours[f"{parent}/runs"]]
        if parent == "syncs":
            expected.insert(0, ours["syncs/failed-run"])  # newest first
        assert [r["id"] for r in runs["data"]] == expected
    evaluations = api.get(f"/audiences/{ours['audiences']}/evaluations").json()
    assert [e["id"] for e in evaluations["data"]] == [ours["evaluations"]]
    listed_alerts = api.get("/alerts").json()
    assert [a["id"] for a in listed_alerts["data"]] == [ours["alerts"]]


def test_same_client_chosen_id_in_two_workspaces_stays_two_objects(
    api: Api, other_api: Api
) -> None:
    chosen = str(uuid.uuid4())
    mine = api.post("/sources", json={"id": chosen, "name": "Mine", "source_type": "pg"})
    theirs = other_api.post("/sources", json={"id": chosen, "name": "Theirs", "source_type": "pg"})
    assert mine.status_code == theirs.status_code == 201
    assert api.get(f"/sources/{chosen}").json()["name"] == "Mine"
    assert other_api.get(f"/sources/{chosen}").json()["name"] == "Theirs"
    assert api.delete(f"/sources/{chosen}").status_code == 204
    assert other_api.get(f"/sources/{chosen}").status_code == 200


def test_run_with_the_id_of_another_workspaces_run_does_not_touch_it(
    api: Api, other_api: Api
) -> None:
    ours = build_graph(api)
    theirs = build_graph(other_api)
    body = {
        "id": theirs["syncs/runs"],
        "status": "failed",
        "started_at": STARTED,
        "completed_at": FINISHED,
    }
    response = api.post(f"/syncs/{ours['syncs']}/runs", json=body)
    assert response.status_code == 201, response.text
    stored = other_api.get(f"/syncs/{theirs['syncs']}/runs/{theirs['syncs/runs']}").json()
    assert stored["status"] == "completed"
