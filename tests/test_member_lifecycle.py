"""Members through the API over an audience's life: deleting it frees its keys, and keys
that UTF-8 cannot hold are refused before they reach either database."""

from __future__ import annotations

from sqlalchemy import func, select

from insights.models import MemberBitmap, MemberKey
from tests.support.api import Api
from tests.support.databases import Database


def _key_count(db: Database, api: Api) -> int:
    with db.session() as session:
        query = select(func.count()).where(MemberKey.workspace_id == api.workspace_id)
        return int(session.scalar(query) or 0)


def test_deleting_an_audience_through_the_api_collects_its_unused_keys(
    db: Database, api: Api
) -> None:
    kept = api.create("audiences", name="Kept")
    gone = api.create("audiences", name="Gone")
    api.post(f"/audiences/{kept['id']}/evaluations", json={"members": ["shared", "k1"]})
    only_gone = [f"g{i}" for i in range(10)]
    api.post(f"/audiences/{gone['id']}/evaluations", json={"members": ["shared", *only_gone]})
    assert _key_count(db, api) == 12

    assert api.delete(f"/audiences/{gone['id']}").status_code == 204

    assert _key_count(db, api) == 2
    with db.session() as session:
        blobs = session.scalar(
            select(func.count()).where(MemberBitmap.workspace_id == api.workspace_id)
        )
    assert blobs == 1
    body = api.get(f"/audiences/{kept['id']}").json()
    assert body["current_size"] == 2


def test_a_member_key_with_a_lone_surrogate_is_400_and_stores_nothing(
    db: Database, api: Api
) -> None:
    audience = api.create("audiences", name="A")
    raw = '{"members": ["ok", "bad\\ud800"]}'
    response = api.post(
        f"/audiences/{audience['id']}/evaluations",
        content=raw.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "members.1" in response.json()["error"]
    assert _key_count(db, api) == 0


def test_a_name_with_a_lone_surrogate_is_400(api: Api) -> None:
    raw = '{"name": "bad\\udfff", "source_type": "snowflake"}'
    response = api.post(
        "/sources", content=raw.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "name" in response.json()["error"]
