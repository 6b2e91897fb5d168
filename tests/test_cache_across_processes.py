"""Several processes of the service on one database: a write or a key revocation made
through one shows in another's very next answer, though that one had cached the old answer
and the key; and writers racing on one workspace all get through, each bumping its version."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2

from insights import auth, workspaces
from insights.models import WorkspaceVersion
from tests.support.api import Api
from tests.support.databases import Database
from tests.support.metrics import parse, value
from tests.support.processes import served_process
from tests.support.served import TLS, in_parallel, no_server_errors, served_app

HITS = "insights_report_cache_hits_total"


def _workspace(db: Database) -> tuple[uuid.UUID, str]:
    with db.session() as session, session.begin():
        ws = workspaces.create_workspace(session, "Acme")
        _, raw = auth.mint_key(session, ws.id, "admin", "admin")
        return ws.id, raw


def _hits(client: httpx2.Client) -> float:
    return value(parse(client.get("/metrics").text), HITS, report="summary")


def test_a_write_and_a_revocation_through_one_process_show_at_once_in_another(
    db: Database, tmp_path: Path
) -> None:
    workspace_id, admin = _workspace(db)
    settings = {"alert_worker": "false"}
    with (
        served_process(db.url, tmp_path / "one.log", **settings) as one,
        served_process(db.url, tmp_path / "two.log", **settings) as two,
        httpx2.Client(base_url=one, timeout=30, verify=TLS) as first,
        httpx2.Client(base_url=two, timeout=30, verify=TLS) as second,
    ):
        writer, reader_side = Api(first, workspace_id, admin), Api(second, workspace_id, admin)
        reader = writer.new_key("read")
        for _ in range(2):
            response = reader_side.get("/insights/summary", key=reader)
            assert response.json()["sources"]["total"] == 0
        hits = _hits(second)
        assert hits >= 1  # the second read came from the second process's cache

        writer.create("sources", name="Warehouse", source_type="snowflake")
        response = reader_side.get("/insights/summary", key=reader)
        assert response.json()["sources"]["total"] == 1
        assert _hits(second) == hits  # computed afresh, not served from the cache

        listed = writer.get("/api-keys").json()["data"]
        key_id = next(key["id"] for key in listed if key["key_prefix"] == reader[:12])
        assert writer.delete(f"/api-keys/{key_id}").status_code == 204
        response = reader_side.get("/insights/summary", key=reader)
        assert response.status_code == 401, response.text
        assert reader_side.get("/sources", key=reader).status_code == 401


def _version(db: Database, workspace_id: uuid.UUID) -> int:
    with db.session() as session:
        row = session.get(WorkspaceVersion, workspace_id)
        return 0 if row is None else row.version


def test_writers_racing_on_one_workspace_all_get_through(db: Database) -> None:
    with served_app(db) as served:
        api = served.workspace(db)
        sync = api.create_sync("Customers")
        before = _version(db, api.workspace_id)
        started = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        clients = [served.api(api) for _ in range(8)]

        def poster(client: Api) -> Callable[[], httpx2.Response]:
            body = {"status": "running", "started_at": started}
            return lambda: client.post(f"/syncs/{sync['id']}/runs", json=body)

        responses = in_parallel([poster(client) for client in clients])
        no_server_errors(responses)
        assert [r.status_code for r in responses] == [201] * 8
        assert _version(db, api.workspace_id) == before + 8
        health = api.get("/insights/sync-health").json()
        assert health["syncs"][0]["last_run_status"] == "running"
