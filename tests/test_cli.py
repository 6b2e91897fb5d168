"""The real `insights` command line (contract section 2, bootstrap; section 7, settings),
run as a subprocess against both databases."""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, select, text

from insights.models import ApiKey, Base, Workspace
from tests.support.api import Api
from tests.support.cli import run_cli
from tests.support.databases import Database


def json_line(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON object a bootstrap command prints, and nothing else on stdout."""
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    value = json.loads(lines[0])
    assert isinstance(value, dict)
    return value


def test_workspace_and_key_create_print_keys_that_work_with_their_scopes(
    db: Database, client: TestClient
) -> None:
    created = json_line(
        run_cli(db.url, "workspace", "create", "Acme Corp", "--timezone", "Europe/Paris")
    )
    assert set(created) == {"workspace_id", "api_key"}
    workspace_id = created["workspace_id"]
    assert str(uuid.UUID(workspace_id)) == workspace_id
    assert created["api_key"].startswith("sk_live_") and len(created["api_key"]) >= 40
    admin = Api(client, uuid.UUID(workspace_id), created["api_key"])
    workspace = admin.get("").json()
    assert (workspace["name"], workspace["timezone"]) == ("Acme Corp", "Europe/Paris")
    assert [k["scope"] for k in admin.get("/api-keys").json()["data"]] == ["admin"]

    write = json_line(
        run_cli(
            db.url, "key", "create", "--workspace", workspace_id, "--scope", "write", "--name", "x"
        )
    )
    assert set(write) == {"id", "api_key"}
    writer = Api(client, uuid.UUID(workspace_id), write["api_key"])
    assert writer.post("/sources", json={"name": "S", "source_type": "pg"}).status_code == 201
    assert writer.get("/api-keys").status_code == 403  # write does not manage keys
    listed = {k["id"]: k for k in admin.get("/api-keys").json()["data"]}
    assert (listed[write["id"]]["name"], listed[write["id"]]["scope"]) == ("x", "write")
    assert listed[write["id"]]["key_prefix"] == write["api_key"][:12]

    read = json_line(run_cli(db.url, "key", "create", "--workspace", workspace_id))
    reader = Api(client, uuid.UUID(workspace_id), read["api_key"])  # the default scope: read
    assert reader.get("/sources").status_code == 200
    assert reader.post("/sources", json={"name": "S", "source_type": "pg"}).status_code == 403
    with db.session() as session:
        stored = session.scalars(select(ApiKey)).all()
    raw_keys = {created["api_key"], write["api_key"], read["api_key"]}
    assert len(stored) == 3
    assert not raw_keys & {value for key in stored for value in (key.key_hash, key.key_prefix)}


def test_unknown_timezone_is_an_error_and_creates_nothing(db: Database) -> None:
    result = run_cli(db.url, "workspace", "create", "Acme", "--timezone", "Mars/Olympus")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Mars/Olympus" in result.stderr
    with db.session() as session:
        assert session.scalars(select(Workspace)).all() == []


def test_key_for_an_unknown_workspace_or_scope_is_an_error(db: Database) -> None:
    missing = str(uuid.uuid4())
    result = run_cli(db.url, "key", "create", "--workspace", missing)
    assert result.returncode != 0 and result.stdout == ""
    assert missing in result.stderr
    result = run_cli(db.url, "key", "create", "--workspace", missing, "--scope", "root")
    assert result.returncode != 0 and result.stdout == ""
    assert "root" in result.stderr
    with db.session() as session:
        assert session.scalars(select(ApiKey)).all() == []


def test_migrate_creates_the_schema_on_an_empty_database(empty_database: str) -> None:
    engine = create_engine(empty_database)
    try:
        assert inspect(engine).get_table_names() == []
        result = run_cli(empty_database, "migrate")
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables
        with engine.connect() as conn:
            heads = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(heads) == 1
    finally:
        engine.dispose()
    # Running it again on an up-to-date database changes nothing and succeeds.
    assert run_cli(empty_database, "migrate").returncode == 0
