"""The one error body for every failure, the body limit, and a database that goes away
and comes back (contract sections 1 and 6), on both databases."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from insights.app import create_app
from tests.support.api import Api, app_state, make_settings, new_workspace_api
from tests.support.databases import Database


def _error(response: httpx2.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"], body
    assert "detail" not in body
    return str(body["error"])


# --- the error body ----------------------------------------------------------------------


def test_validation_failure_is_400_not_422(api: Api) -> None:
    assert "page" in _error(api.get("/sources", params={"page": "one"}), 400)
    assert "name" in _error(api.post("/sources", json={"name": 1, "source_type": "x"}), 400)
    assert "source_type" in _error(api.post("/sources", json={"name": "S"}), 400)


def test_malformed_uuid_in_a_query_parameter_is_400_naming_it(api: Api) -> None:
    for path in ("/insights/audience-trends", "/insights/audience-overlap"):
        response = api.get(path, params={"audience_ids": f"{uuid.uuid4()},not-a-uuid"})
        message = _error(response, 400)
        assert "audience_ids" in message and "not-a-uuid" in message


def test_unknown_route_is_404_with_the_error_body(api: Api) -> None:
    for path in ("/nope", "/api/v1", "/api/v1/nope", f"{api.base}/nope", f"{api.base}/sources/a/b"):
        assert path in _error(api.client.get(path, headers=api.headers()), 404)


def test_wrong_method_is_405_with_the_error_body(api: Api) -> None:
    message = _error(api.delete("/sources"), 405)
    assert "DELETE" in message
    response = api.client.post("/healthz")
    _error(response, 405)
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize("body", [b"{", b"{'name': 'x'}", b'{"name": "x",}', b"\xff\xfe", b"nul"])
def test_body_that_is_not_json_is_400(api: Api, body: bytes) -> None:
    response = api.post("/sources", content=body, headers={"Content-Type": "application/json"})
    assert "JSON" in _error(response, 400)


def test_empty_body_is_400(api: Api) -> None:
    response = api.post("/sources", content=b"", headers={"Content-Type": "application/json"})
    assert "body" in _error(response, 400)


def test_bad_json_without_a_key_is_401_not_400(api: Api) -> None:
    # The key is checked first, even before the body is read as JSON.
    response = api.client.post(
        f"{api.base}/sources", content=b"{", headers={"Content-Type": "application/json"}
    )
    _error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    read_key = api.new_key("read")
    response = api.post(
        "/sources", key=read_key, content=b"{", headers={"Content-Type": "application/json"}
    )
    _error(response, 403)


def test_healthz_is_200_without_auth(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_the_database_answers(client: TestClient) -> None:
    assert client.get("/readyz").status_code == 200


# --- body limit ----------------------------------------------------------------------------


@pytest.fixture
def small_limit_api(db: Database) -> Iterator[Api]:
    with TestClient(create_app(make_settings(db, max_json_body_bytes=2048))) as client:
        yield new_workspace_api(db, client)


def test_body_over_the_limit_is_413(small_limit_api: Api) -> None:
    api = small_limit_api
    big = {"name": "S", "source_type": "x", "status_error": "e" * 3000}
    assert "2048" in _error(api.post("/sources", json=big), 413)
    small = {"name": "S", "source_type": "x", "status_error": "e" * 1500}
    assert api.post("/sources", json=small).status_code == 201
    assert api.get("/sources").json()["pagination"]["total"] == 1


def test_streamed_body_over_the_limit_is_413(small_limit_api: Api) -> None:
    api = small_limit_api
    payload = json.dumps({"name": "S", "source_type": "x", "status_error": "e" * 5000}).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body is counted as it arrives
        for start in range(0, len(payload), 512):
            yield payload[start : start + 512]

    response = api.post("/sources", content=chunks(), headers={"Content-Type": "application/json"})
    _error(response, 413)
    assert api.get("/sources").json()["pagination"]["total"] == 0


def test_body_over_the_limit_is_413_even_without_a_key(small_limit_api: Api) -> None:
    response = small_limit_api.client.post(f"{small_limit_api.base}/sources", content=b"x" * 4096)
    _error(response, 413)


# --- the database goes away and comes back --------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; stop() severs every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._running = threading.Event()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._sockets = [listener]
        self._running.set()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        self._running.clear()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets = []

    def _accept(self, listener: socket.socket) -> None:
        while self._running.is_set():
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            client.settimeout(None)
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_RDWR)


def _assert_up(api: Api) -> None:
    assert api.client.get("/readyz").status_code == 200
    assert api.get("/sources").status_code == 200


def _assert_down(api: Api) -> None:
    client = api.client
    assert "database" in _error(client.get("/readyz"), 503)
    _error(api.get("/sources"), 503)
    _error(api.post("/sources", json={"name": "S", "source_type": "x"}), 503)
    _error(api.get(f"/sources/{uuid.uuid4()}"), 503)
    assert client.get("/healthz").status_code == 200


def test_database_outage_is_503_and_the_service_recovers(db: Database, tmp_path: Path) -> None:
    if db.kind == "postgresql":
        _postgresql_outage(db)
    else:
        _sqlite_outage(db, tmp_path)


def _postgresql_outage(db: Database) -> None:
    """The server goes away behind a TCP proxy, then comes back on the same address."""
    url = make_url(db.url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        app = create_app(make_settings(db, database_url=proxied))
        with TestClient(app) as client:
            api = new_workspace_api(db, client)
            _assert_up(api)
            proxy.stop()
            _assert_down(api)
            proxy.start()  # the same port: the app is not restarted
            _assert_up(api)
            assert api.post("/sources", json={"name": "S", "source_type": "x"}).status_code == 201
    finally:
        proxy.stop()


def _sqlite_outage(db: Database, tmp_path: Path) -> None:
    """The volume holding the file goes away (connections dropped, the file cannot be
    opened), then comes back."""
    volume = tmp_path / "volume"
    volume.mkdir()
    path = volume / "insights.db"
    os.replace(make_url(db.url).database or "", path)
    with TestClient(create_app(make_settings(db, database_url=f"sqlite:///{path}"))) as client:
        engine = app_state(client).engine
        api = Api(client, *_bootstrap(client))
        _assert_up(api)
        moved = tmp_path / "unmounted"
        volume.rename(moved)
        engine.dispose()
        _assert_down(api)
        moved.rename(volume)
        _assert_up(api)
        assert api.post("/sources", json={"name": "S", "source_type": "x"}).status_code == 201


def _bootstrap(client: TestClient) -> tuple[uuid.UUID, str]:
    """A workspace and admin key made through the app's own engine."""
    from insights import auth, workspaces
    from insights.db import transaction

    with transaction(app_state(client).write) as session:
        workspace = workspaces.create_workspace(session, "Acme")
        _, raw = auth.mint_key(session, workspace.id, "admin", "admin")
        return workspace.id, raw
