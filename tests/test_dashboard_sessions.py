"""Dashboard sign-in over HTTP: the session cookie's flags, expiry, revocation and logout."""

from __future__ import annotations

from http.cookies import SimpleCookie

import itsdangerous
import pytest
from fastapi.testclient import TestClient

from insights.app import create_app
from insights.dashboard.auth import COOKIE
from tests.support.api import Api, make_settings
from tests.support.dashboard import Seeded, page, seed_workspace, set_cookie_header, sign_in
from tests.support.databases import Database

PAGES = ("", "/sync-health", "/audience-trends", "/activation-coverage", "/audience-overlap")


@pytest.fixture
def seeded(db: Database, api: Api) -> Seeded:
    with db.session() as session, session.begin():
        return seed_workspace(session, api.workspace_id)


def test_login_page_shows_the_form(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="api_key"' in response.text


def test_login_sets_a_signed_strict_httponly_cookie_with_an_expiry(
    client: TestClient, api: Api
) -> None:
    response = sign_in(client, api.key)
    assert response.status_code == 303
    assert response.headers["location"] == page(api)
    header = set_cookie_header(response)
    lowered = header.lower()
    assert "httponly" in lowered
    assert "samesite=strict" in lowered
    assert "max-age=28800" in lowered
    assert "expires=" in lowered
    assert "path=/" in lowered
    assert "secure" not in lowered  # plain HTTP here
    value = SimpleCookie(header)[COOKIE].value
    assert api.key not in value
    assert api.key[len("sk_live_") :] not in value


def test_login_over_https_marks_the_cookie_secure(db: Database, api: Api) -> None:
    with TestClient(create_app(make_settings(db)), base_url="https://testserver") as client:
        header = set_cookie_header(sign_in(client, api.key))
    assert "secure" in header.lower()


def test_the_session_cookie_opens_pages(client: TestClient, api: Api, seeded: Seeded) -> None:
    sign_in(client, api.key)
    for suffix in PAGES:
        assert client.get(page(api, suffix)).status_code == 200, suffix


def test_a_bad_key_shows_the_form_again_with_401(client: TestClient) -> None:
    response = sign_in(client, "sk_live_nope")
    assert response.status_code == 401
    assert 'name="api_key"' in response.text
    assert "unknown, revoked or malformed" in response.text
    assert COOKIE not in response.headers.get("set-cookie", "")


def test_login_returns_to_the_page_asked_for_but_only_in_the_own_workspace(
    client: TestClient, api: Api, other_api: Api
) -> None:
    wanted = page(api, "/sync-health?days=30")
    assert sign_in(client, api.key, next=wanted).headers["location"] == wanted
    for elsewhere in ("https://evil.example/", "//evil.example", page(other_api)):
        assert sign_in(client, api.key, next=elsewhere).headers["location"] == page(api)


def test_a_signed_in_visit_to_login_goes_to_the_workspace(client: TestClient, api: Api) -> None:
    sign_in(client, api.key)
    response = client.get("/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == page(api)


def test_logout_ends_the_session(client: TestClient, api: Api) -> None:
    sign_in(client, api.key)
    response = client.post("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "max-age=0" in set_cookie_header(response).lower()
    assert client.get(page(api), follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_its_sessions(client: TestClient, api: Api) -> None:
    reader = api.new_key("read")
    sign_in(client, reader)
    assert client.get(page(api)).status_code == 200
    key_id = next(
        k["id"] for k in api.get("/api-keys").json()["data"] if reader.startswith(k["key_prefix"])
    )
    assert api.delete(f"/api-keys/{key_id}").status_code == 204
    response = client.get(page(api), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_tampered_cookie_opens_nothing(client: TestClient, api: Api) -> None:
    sign_in(client, api.key)
    token = client.cookies[COOKIE]
    client.cookies.clear()
    client.cookies.set(COOKIE, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert client.get(page(api), follow_redirects=False).status_code == 303


def test_an_expired_session_opens_nothing(
    client: TestClient, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = itsdangerous.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.TimestampSigner, "get_timestamp", lambda self: real(self) - 9 * 3600
    )
    sign_in(client, api.key)
    monkeypatch.undo()
    assert client.get(page(api), follow_redirects=False).status_code == 303


def test_a_form_posted_from_another_site_is_refused(client: TestClient, api: Api) -> None:
    response = client.post(
        "/login", data={"api_key": api.key}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert COOKIE not in response.headers.get("set-cookie", "")
