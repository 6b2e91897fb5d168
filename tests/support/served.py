"""The app served for real (uvicorn in a thread, 127.0.0.1, a free port) and requests fired at
it in parallel: threads released together by a barrier, one HTTP client each."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text

from insights import auth, workspaces
from insights.app import create_app
from insights.settings import Settings
from insights.web.state import AppState
from tests.support.api import Api, make_settings
from tests.support.databases import Database

Result = TypeVar("Result")
START_SECONDS = 10
REQUEST_SECONDS = 60
WAIT_SECONDS = 20
# One TLS context for every client the tests make: a client made without one loads the CA
# bundle anew (~50 ms), though every URL here is plain HTTP on 127.0.0.1.
TLS = ssl.create_default_context()


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The base URL of `app` served by uvicorn on a thread of this process, until the block
    ends (the server then stops within a few seconds)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the served app did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_SECONDS)
        sock.close()


@dataclass
class Served:
    """A served app; `workspace` makes a workspace and a client of it, `api` another client
    of the same workspace (one per thread)."""

    base_url: str
    app: FastAPI
    _clients: ExitStack = field(default_factory=ExitStack)

    def client(self) -> httpx2.Client:
        """A new HTTP client of the app, closed with it."""
        return self._clients.enter_context(
            httpx2.Client(base_url=self.base_url, timeout=REQUEST_SECONDS, verify=TLS)
        )

    def api(self, workspace: Api) -> Api:
        return Api(self.client(), workspace.workspace_id, workspace.key)

    def workspace(self, db: Database, name: str = "Acme") -> Api:
        """A new workspace with an admin key, made the way the CLI makes them."""
        with db.session() as session, session.begin():
            ws = workspaces.create_workspace(session, name)
            _, raw = auth.mint_key(session, ws.id, "admin", "admin")
            workspace_id = ws.id
        return Api(self.client(), workspace_id, raw)

    def close(self) -> None:
        self._clients.close()


@contextmanager
def served_app(db: Database, **overrides: Any) -> Iterator[Served]:
    """The service on the test database, served for real, with these settings changed."""
    settings: Settings = make_settings(db, **overrides)
    app = create_app(settings)
    with serving(app) as base_url:
        served = Served(base_url, app)
        try:
            yield served
        finally:
            served.close()


def in_parallel(
    calls: Sequence[Callable[[], Result]], timeout: float = REQUEST_SECONDS
) -> list[Result]:
    """The results of `calls`, each run on its own thread; the threads wait for each other
    at a barrier first, so the calls reach the service together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Result]) -> Result:
        barrier.wait(timeout)
        return call()

    with ThreadPoolExecutor(len(calls), thread_name_prefix="client") as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout) for future in futures]


def statuses(responses: Sequence[httpx2.Response]) -> list[int]:
    """The status codes, sorted: what a test compares with the sequential model's."""
    return sorted(response.status_code for response in responses)


def no_server_errors(responses: Sequence[httpx2.Response]) -> None:
    """Fails with the body of the first 5xx among `responses`."""
    for response in responses:
        assert response.status_code < 500, response.text


def new_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def writes_blocked(db: Database) -> Iterator[None]:
    """Until the block ends, a write to the sources table waits: SQLite's write lock, or a
    PostgreSQL lock on the table."""
    with db.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection:
        connection.begin()  # SQLite: BEGIN IMMEDIATE, the write lock (insights.db)
        if db.kind != "sqlite":
            connection.execute(text("LOCK TABLE sources IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()


def wait_for_a_connection_in_use(served: Served) -> None:
    """Waits (bounded) until the served app has a request holding a pooled connection."""
    state: AppState = served.app.state.insights
    deadline = time.monotonic() + WAIT_SECONDS
    while state.engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the write never took its connection"
        time.sleep(0.01)
