"""A workspace with one object of every kind, and how to call any of its routes on it:
what the isolation walk and the schema fuzzing share."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from tests.support.api import Api

WORKSPACE_PREFIX = "/api/v1/workspaces/{workspace_id}"
STARTED = "2024-01-15T10:00:00Z"
FINISHED = "2024-01-15T10:05:00Z"
# A public address, as an IP so that no DNS is needed (notifications are never sent here).
RULE = {
    "name": "A rule",
    "condition": "sync_failed",
    "channel": {"type": "webhook", "url": "https://93.184.215.14/hook", "secret": "a-secret"},
}


def build_graph(api: Api) -> dict[str, str]:
    """One object of every kind (and a run of every run kind) in the workspace, by kind path."""
    ids: dict[str, str] = {}
    ids["sources"] = api.create("sources", name="A source", source_type="snowflake")["id"]
    ids["models"] = api.create("models", name="A model", source_id=ids["sources"])["id"]
    ids["destinations"] = api.create(
        "destinations", name="A destination", destination_type="google_ads"
    )["id"]
    ids["audiences"] = api.create("audiences", name="A audience", parent_model_id=ids["models"])[
        "id"
    ]
    ids["syncs"] = api.create(
        "syncs", name="A sync", model_id=ids["models"], destination_id=ids["destinations"]
    )["id"]
    ids["audience-syncs"] = api.create(
        "audience-syncs",
        name="A audience sync",
        audience_id=ids["audiences"],
        destination_id=ids["destinations"],
    )["id"]
    ids["loaders"] = api.create("loaders", name="A loader", loader_type="s3")["id"]
    for parent in ("syncs", "audience-syncs", "loaders"):
        response = api.post(
            f"/{parent}/{ids[parent]}/runs",
            json={"status": "completed", "started_at": STARTED, "completed_at": FINISHED},
        )
        assert response.status_code == 201, response.text
        ids[f"{parent}/runs"] = response.json()["id"]
    response = api.post(
        f"/audiences/{ids['audiences']}/evaluations",
        json={"evaluated_at": STARTED, "members": ["a-secret-member", "another-member"]},
    )
    assert response.status_code == 201, response.text
    ids["evaluations"] = response.json()["id"]
    ids["api-keys"] = api.get("/api-keys").json()["data"][0]["id"]
    response = api.post("/alert-rules", json=RULE)
    assert response.status_code == 201, response.text
    ids["alert-rules"] = response.json()["id"]
    response = api.post(  # a later failed run: the rule opens an alert on the sync
        f"/syncs/{ids['syncs']}/runs",
        json={"status": "failed", "started_at": FINISHED, "completed_at": FINISHED},
    )
    assert response.status_code == 201, response.text
    ids["syncs/failed-run"] = response.json()["id"]
    api.settle_alerts()  # the alert opens just after the write, off the request
    ids["alerts"] = api.get("/alerts").json()["data"][0]["id"]
    return ids


def workspace_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every operation under a workspace, from the OpenAPI
    schema, so that a route added later is walked without changing this test."""
    methods = {"get", "post", "put", "patch", "delete"}
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(WORKSPACE_PREFIX)
        for method in sorted(operations)
        if method in methods
    ]


def fill_path(template: str, workspace_id: uuid.UUID, ids: dict[str, str]) -> str:
    """The template with every parameter set to an ID of the object its segment names."""
    parts = template.split("/")
    for index, part in enumerate(parts):
        if not (part.startswith("{") and part.endswith("}")):
            continue
        if part == "{workspace_id}":
            parts[index] = str(workspace_id)
            continue
        owner = parts[index - 1]
        if owner == "runs":
            owner = f"{parts[index - 3]}/runs"
        if owner not in ids:
            pytest.fail(f"no object to fill {part} of {template}: extend build_graph")
        parts[index] = ids[owner]
    return "/".join(parts)


def query_for(ids: dict[str, str]) -> dict[str, str]:
    """Query parameters some routes need, naming the workspace's own objects."""
    return {"audience_ids": ids["audiences"], "sync_ids": ids["syncs"], "days": "7"}


def body_for(template: str) -> dict[str, Any]:
    """A body the route would accept, so that only the access check can refuse the call."""
    if template.endswith("/members"):
        return {"content": b"intruder\n", "headers": {"Content-Type": "text/plain"}}
    if template.endswith("/evaluations"):
        return {"json": {"size": 1}}
    if template.endswith("/runs"):
        return {"json": {"status": "running", "started_at": STARTED}}
    if template.endswith("{run_id}"):
        return {"json": {"error": "intruder"}}
    if template.endswith("/alert-rules"):
        return {"json": {**RULE, "name": "intruder"}}
    if template.endswith("/api-keys"):
        return {"json": {"name": "intruder", "scope": "admin"}}
    return {"json": {"name": "intruder"}}


def call(
    api: Api, method: str, template: str, workspace_id: uuid.UUID, key: str, ids: dict[str, str]
) -> httpx2.Response:
    """Call the route on `workspace_id` (as `api`'s client), its parameters filled from `ids`."""
    path = fill_path(template, workspace_id, ids)
    kwargs: dict[str, Any] = {"params": query_for(ids)}
    if method in ("POST", "PUT", "PATCH"):
        kwargs.update(body_for(template))
    headers = {"X-Workspace-ID": str(workspace_id), **kwargs.pop("headers", {})}
    return api.client.request(method, path, headers={**api.headers(key), **headers}, **kwargs)
