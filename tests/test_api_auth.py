"""API keys and the order of the access checks (contract section 2), on both databases."""

from __future__ import annotations

import re
import uuid

import httpx2
import pytest
from sqlalchemy import delete, select, text

from insights.models import ApiKey, Workspace
from tests.support.api import Api
from tests.support.databases import Database

KEY_PATTERN = re.compile(r"^sk_live_[A-Za-z0-9_-]{32,}$")


def _assert_401(response: httpx2.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]


# --- the key itself ----------------------------------------------------------------------


def test_created_key_has_the_sk_live_format_and_its_prefix(api: Api) -> None:
    response = api.post("/api-keys", json={"name": "deploy", "scope": "write"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert KEY_PATTERN.match(body["key"])
    assert body["key_prefix"] == body["key"][:12]
    assert body["scope"] == "write"
    assert body["status"] == "active"
    assert body["workspace_id"] == str(api.workspace_id)
    assert body["name"] == "deploy"
    assert body["last_used_at"] is None


def test_key_scope_defaults_to_read(api: Api) -> None:
    response = api.post("/api-keys", json={"name": "dashboards"})
    assert response.status_code == 201
    assert response.json()["scope"] == "read"


def test_two_keys_are_different(api: Api) -> None:
    assert api.new_key("read") != api.new_key("read")


def test_only_a_hash_of_the_key_is_stored(db: Database, api: Api) -> None:
    raw = api.new_key("write")
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).mappings().all()
    assert len(rows) == 2
    for row in rows:
        for value in row.values():
            assert raw not in str(value)
            assert raw[12:] not in str(value)
    prefixes = {row["key_prefix"] for row in rows}
    assert raw[:12] in prefixes


def test_key_list_never_shows_the_key(api: Api) -> None:
    raw = api.new_key("read")
    response = api.get("/api-keys")
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"]["total"] == 2
    assert raw not in response.text
    assert api.key not in response.text
    for item in body["data"]:
        assert "key" not in item
        assert set(item) == {
            "id",
            "workspace_id",
            "name",
            "key_prefix",
            "scope",
            "status",
            "created_at",
            "updated_at",
            "last_used_at",
        }


def test_unknown_scope_is_400(api: Api) -> None:
    response = api.post("/api-keys", json={"name": "x", "scope": "root"})
    assert response.status_code == 400
    assert "scope" in response.json()["error"]


def test_last_used_at_is_set_when_a_key_is_used(db: Database, api: Api) -> None:
    raw = api.new_key("read")
    assert api.get("/sources", key=raw).status_code == 200
    listed = {k["key_prefix"]: k for k in api.get("/api-keys").json()["data"]}
    assert listed[raw[:12]]["last_used_at"] is not None
    assert listed[raw[:12]]["last_used_at"].endswith("Z")
    with db.session() as session:
        stored = session.scalars(select(ApiKey).where(ApiKey.key_prefix == raw[:12])).one()
        assert stored.last_used_at is not None


# --- scopes ------------------------------------------------------------------------------


def test_read_key_can_get_but_not_post(api: Api) -> None:
    raw = api.new_key("read")
    assert api.get("/sources", key=raw).status_code == 200
    assert api.get("", key=raw).status_code == 200
    response = api.post("/sources", key=raw, json={"name": "S", "source_type": "pg"})
    assert response.status_code == 403
    assert "write" in response.json()["error"]
    assert api.get("/sources").json()["pagination"]["total"] == 0


def test_read_key_cannot_update_or_delete(api: Api) -> None:
    source = api.create("sources", name="S", source_type="pg")
    raw = api.new_key("read")
    assert api.put(f"/sources/{source['id']}", key=raw, json={"name": "T"}).status_code == 403
    assert api.delete(f"/sources/{source['id']}", key=raw).status_code == 403
    assert api.get(f"/sources/{source['id']}").json()["name"] == "S"


def test_write_key_can_write_resources(api: Api) -> None:
    raw = api.new_key("write")
    response = api.post("/sources", key=raw, json={"name": "S", "source_type": "pg"})
    assert response.status_code == 201


@pytest.mark.parametrize("scope", ["read", "write"])
def test_only_admin_keys_manage_keys(api: Api, scope: str) -> None:
    raw = api.new_key(scope)
    assert api.get("/api-keys", key=raw).status_code == 403
    created = api.post("/api-keys", key=raw, json={"name": "x", "scope": "admin"})
    assert created.status_code == 403
    assert "admin" in created.json()["error"]
    own_id = next(k["id"] for k in api.get("/api-keys").json()["data"] if k["scope"] == scope)
    assert api.delete(f"/api-keys/{own_id}", key=raw).status_code == 403
    assert api.get("/api-keys").json()["pagination"]["total"] == 2


@pytest.mark.parametrize("scope", ["read", "write"])
def test_only_admin_keys_update_the_workspace(api: Api, scope: str) -> None:
    raw = api.new_key(scope)
    assert api.put("", key=raw, json={"name": "Renamed"}).status_code == 403
    assert api.get("").json()["name"] == "Acme"


def test_admin_key_manages_keys(api: Api) -> None:
    assert api.get("/api-keys").status_code == 200
    assert api.post("/api-keys", json={"name": "a", "scope": "admin"}).status_code == 201


# --- the workspace ----------------------------------------------------------------------


def test_workspace_is_readable_and_admin_can_change_name_and_timezone(api: Api) -> None:
    body = api.get("").json()
    assert body["id"] == str(api.workspace_id)
    assert body["timezone"] == "UTC"
    assert set(body) == {"id", "name", "timezone", "created_at", "updated_at"}
    response = api.put("", json={"name": "Renamed", "timezone": "Europe/Berlin"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert api.get("").json()["timezone"] == "Europe/Berlin"


def test_unknown_workspace_timezone_is_400(api: Api) -> None:
    response = api.put("", json={"timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "Mars/Olympus" in response.json()["error"]
    assert api.get("").json()["timezone"] == "UTC"


# --- revocation -------------------------------------------------------------------------


def test_revoked_key_gets_401(api: Api) -> None:
    raw = api.new_key("write")
    assert api.get("/sources", key=raw).status_code == 200
    key_id = next(k["id"] for k in api.get("/api-keys").json()["data"] if k["scope"] == "write")
    response = api.delete(f"/api-keys/{key_id}")
    assert response.status_code == 204
    assert response.content == b""
    _assert_401(api.get("/sources", key=raw))
    listed = {k["id"]: k for k in api.get("/api-keys").json()["data"]}
    assert listed[key_id]["status"] == "revoked"


def test_revoking_an_unknown_key_is_404(api: Api) -> None:
    response = api.delete(f"/api-keys/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["error"]


def test_revoking_a_key_of_another_workspace_is_404_and_leaves_it_working(
    api: Api, other_api: Api
) -> None:
    other_key_id = other_api.get("/api-keys").json()["data"][0]["id"]
    assert api.delete(f"/api-keys/{other_key_id}").status_code == 404
    assert other_api.get("/sources").status_code == 200


# --- 401 comes first --------------------------------------------------------------------


BAD_AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "Bearer garbage",
    "Bearer sk_live_short",
    "Bearer sk_live_" + "A" * 43,  # well formed, but no such key
    "sk_live_" + "A" * 43,
]


def test_missing_or_bad_key_is_401_with_www_authenticate(api: Api) -> None:
    for authorization in BAD_AUTHORIZATIONS:
        headers = {"X-Workspace-ID": str(api.workspace_id)}
        if authorization is not None:
            headers["Authorization"] = authorization
        _assert_401(api.client.get(f"{api.base}/sources", headers=headers))


def test_bad_key_is_401_even_without_the_workspace_header(api: Api) -> None:
    _assert_401(api.client.get(f"{api.base}/sources", headers={"Authorization": "Bearer x"}))
    _assert_401(api.client.get(f"{api.base}/sources"))


def test_bad_key_is_401_on_an_unknown_workspace(api: Api) -> None:
    unknown = uuid.uuid4()
    headers = {"Authorization": "Bearer sk_live_" + "B" * 43, "X-Workspace-ID": str(unknown)}
    _assert_401(api.client.get(f"/api/v1/workspaces/{unknown}/sources", headers=headers))


def test_bad_key_is_401_before_a_malformed_workspace_id(api: Api) -> None:
    _assert_401(api.client.get("/api/v1/workspaces/not-a-uuid/sources"))


def test_bad_key_is_401_before_a_bad_body(api: Api) -> None:
    headers = {"X-Workspace-ID": str(api.workspace_id), "Content-Type": "application/json"}
    response = api.client.post(f"{api.base}/sources", headers=headers, content=b"{not json")
    _assert_401(response)
    response = api.client.post(f"{api.base}/sources", headers=headers, json={"name": 5})
    _assert_401(response)


def test_bad_key_is_401_before_a_bad_query_parameter(api: Api) -> None:
    headers = {"X-Workspace-ID": str(api.workspace_id)}
    _assert_401(api.client.get(f"{api.base}/sources?page=zero", headers=headers))


# --- then the header (400) ----------------------------------------------------------------


def test_missing_workspace_header_is_400(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.key}"}
    response = api.client.get(f"{api.base}/sources", headers=headers)
    assert response.status_code == 400
    assert "X-Workspace-ID" in response.json()["error"]


def test_mismatched_workspace_header_is_400(api: Api, other_api: Api) -> None:
    response = api.get("/sources", headers={"X-Workspace-ID": str(other_api.workspace_id)})
    assert response.status_code == 400
    assert "X-Workspace-ID" in response.json()["error"]


def test_malformed_workspace_header_is_400(api: Api) -> None:
    response = api.get("/sources", headers={"X-Workspace-ID": "nope"})
    assert response.status_code == 400
    assert "X-Workspace-ID" in response.json()["error"]


def test_header_is_checked_before_the_grant(api: Api, other_api: Api) -> None:
    headers = {"Authorization": f"Bearer {other_api.key}"}
    response = api.client.get(f"{api.base}/sources", headers=headers)
    assert response.status_code == 400


# --- then the grant (403) --------------------------------------------------------------


def test_key_of_another_workspace_is_403(api: Api, other_api: Api) -> None:
    response = api.get("/sources", key=other_api.key)
    assert response.status_code == 403
    assert response.json()["error"]


def test_key_of_another_workspace_is_403_on_an_unknown_workspace(api: Api) -> None:
    unknown = uuid.uuid4()
    headers = {"Authorization": f"Bearer {api.key}", "X-Workspace-ID": str(unknown)}
    for path in ("", "/sources", f"/sources/{uuid.uuid4()}", "/api-keys"):
        response = api.client.get(f"/api/v1/workspaces/{unknown}{path}", headers=headers)
        assert response.status_code == 403, path
    existing = api.client.get(
        f"/api/v1/workspaces/{api.workspace_id}/sources",
        headers={"Authorization": f"Bearer {api.key}", "X-Workspace-ID": str(api.workspace_id)},
    )
    assert existing.status_code == 200


def test_other_workspace_and_unknown_workspace_answer_alike(api: Api, other_api: Api) -> None:
    unknown = uuid.uuid4()

    def call(ws: uuid.UUID) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {api.key}", "X-Workspace-ID": str(ws)}
        return api.client.get(f"/api/v1/workspaces/{ws}/sources", headers=headers)

    existing, missing = call(other_api.workspace_id), call(unknown)
    assert existing.status_code == missing.status_code == 403
    assert existing.json() == missing.json()


def test_key_of_another_workspace_is_403_before_a_bad_body(api: Api, other_api: Api) -> None:
    response = api.post("/sources", key=other_api.key, json={"bogus": True})
    assert response.status_code == 403


def test_too_low_scope_is_403_before_a_bad_body(api: Api) -> None:
    raw = api.new_key("read")
    response = api.post("/sources", key=raw, json={"bogus": True})
    assert response.status_code == 403


# --- then existence (404) ----------------------------------------------------------------


def test_deleted_workspace_with_its_own_key_is_401(db: Database, api: Api) -> None:
    # The workspace's keys go with it (ON DELETE CASCADE): its key is unknown from then on.
    with db.session() as session, session.begin():
        session.execute(delete(Workspace).where(Workspace.id == api.workspace_id))
    _assert_401(api.get("/sources"))


def test_unknown_resource_is_404_only_after_access_passes(api: Api) -> None:
    missing = uuid.uuid4()
    assert api.get(f"/sources/{missing}").status_code == 404
    raw = api.new_key("read")
    assert api.delete(f"/sources/{missing}", key=raw).status_code == 403
