"""A client of one workspace through the HTTP API, and the settings of a test app."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx2  # what starlette's TestClient is built on (and so what it returns)
from fastapi import FastAPI
from fastapi.testclient import TestClient

from insights import auth, workspaces
from insights.settings import Settings
from insights.web.state import AppState
from tests.support.databases import Database


@dataclass
class Api:
    """A client of one workspace through the HTTP API, with its admin key: in process (a
    TestClient) or over real HTTP (tests.support.served)."""

    client: httpx2.Client
    workspace_id: uuid.UUID
    key: str

    @property
    def base(self) -> str:
        return f"/api/v1/workspaces/{self.workspace_id}"

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {key or self.key}",
            "X-Workspace-ID": str(self.workspace_id),
        }

    def request(
        self,
        method: str,
        path: str,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx2.Response:
        merged = {**self.headers(key), **(headers or {})}
        return self.client.request(method, self.base + path, headers=merged, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("DELETE", path, **kwargs)

    def create(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Create a resource and return its body; fails the test on any other status."""
        response = self.post(f"/{kind}", json=fields)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def create_sync(self, name: str, **fields: Any) -> dict[str, Any]:
        """A model sync named `name` with a source, model and destination of its own."""
        source = self.create("sources", name=f"W {name}", source_type="snowflake")
        model = self.create("models", name=f"M {name}", source_id=source["id"])
        destination = self.create("destinations", name=f"D {name}", destination_type="hubspot")
        return self.create(
            "syncs", name=name, model_id=model["id"], destination_id=destination["id"], **fields
        )

    def settle_alerts(self) -> None:
        """Waits until the alert evaluations the writes so far left behind are done."""
        state: AppState = self.client.app.state.insights  # type: ignore[attr-defined]
        assert state.alert_queue.wait_idle(timeout=60), "alert evaluation did not finish"

    def new_key(self, scope: str) -> str:
        response = self.post("/api-keys", json={"name": f"{scope} key", "scope": scope})
        assert response.status_code == 201, response.text
        key: str = response.json()["key"]
        return key


def make_settings(db: Database, **overrides: Any) -> Settings:
    """Settings for an app on this test database; rate limits off unless asked for."""
    values = {
        "database_url": db.url,
        "rate_limit_per_minute": 0,
        "rate_limit_per_second": 0,
        "alert_worker": False,  # tests that want the worker ask for it
        "warm_up": False,  # a few hundred ms per app; tests/test_load_sizing.py tests it
        # gc.freeze's full collection walks the whole test process: ~250 ms per app started
        # (tests/test_cycle_collector.py tests it)
        "gc_freeze": False,
    }
    return Settings(**{**values, **overrides})


def new_workspace_api(
    db: Database, client: TestClient, name: str = "Acme", timezone: str = "UTC"
) -> Api:
    """A new workspace with an admin key, made the way the CLI makes them."""
    with db.session() as session, session.begin():
        ws = workspaces.create_workspace(session, name, timezone)
        _, raw = auth.mint_key(session, ws.id, "admin", "admin")
        ws_id = ws.id
    return Api(client, ws_id, raw)


def app_of(client: TestClient) -> FastAPI:
    """The app a test client drives (TestClient types it as any ASGI app)."""
    app = client.app
    assert isinstance(app, FastAPI), app
    return app


def app_state(client: TestClient) -> AppState:
    """What the client's app holds for its lifetime (set by create_app)."""
    state: AppState = app_of(client).state.insights
    return state
