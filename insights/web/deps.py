"""Request dependencies: the session of a request, the caller's key checked in the
contract's order (401, 400, 403, rate limit; the routes' own 404s come after), and
pagination."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import Depends, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from insights import alerts, metrics
from insights.auth import Principal
from insights.concurrency import run_blocking
from insights.db import transaction
from insights.errors import BadRequest, ClientClosedRequest, Forbidden, RateLimited, Unauthorized
from insights.pagination import MAX_PAGE, MAX_PAGE_SIZE, Page
from insights.types import parse_uuid
from insights.web.state import AppState, app_state

READ_METHODS = ("GET", "HEAD")


def _session_factory(request: Request) -> sessionmaker[Session]:
    state = app_state(request)
    return state.read if request.method in READ_METHODS else state.write


async def _session(request: Request) -> AsyncIterator[Session]:
    """The request's session, once it has one of the process's session slots: a request
    waits for a slot on the event loop before it takes a thread or a connection
    (insights.web.capacity), so requests queue instead of deadlocking on the pool."""
    state = app_state(request)
    async with state.session_slots.held():
        # A client that gave up while the request queued (a load balancer's timeout, a
        # closed tab) would leave work that delays everyone queued behind it.
        if await request.is_disconnected():
            raise ClientClosedRequest("The client closed the connection; the request was dropped.")
        session = _session_factory(request)()
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):  # a cancelled request still returns its connection
                await run_blocking(_end, session, False)
            raise
        with anyio.CancelScope(shield=True):
            await run_blocking(_end, session, True)
    # After the commit: what the write changed goes to the alert evaluation, which runs
    # off the request (insights.alerts.queue), so that a write costs the same with rules.
    alerts.queue_after_write(state.alert_queue, session)


def _end(session: Session, commit: bool) -> None:
    """Commits (or not) and closes, in one worker-thread call: rolled back on any error."""
    try:
        if commit:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()  # closing rolls back whatever was not committed


# scope="function": the commit happens before the response is sent, so a failed commit
# is reported to the client instead of a 2xx.
SessionDep = Annotated[Session, Depends(_session, scope="function")]


@dataclass(frozen=True)
class Access:
    """A checked call on one workspace: who is calling, on which workspace, and the
    workspace's data version as read by the check (before anything else the call reads)."""

    principal: Principal
    workspace_id: uuid.UUID
    version: int = 0


def bearer_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("An Authorization: Bearer <api key> header is required.")
    return key.strip()


def _workspace_in_path(request: Request) -> uuid.UUID:
    path_id = parse_uuid(request.path_params.get("workspace_id", ""), "workspace ID")
    header = request.headers.get("x-workspace-id")
    if header is None:
        raise BadRequest("The X-Workspace-ID header is required.")
    if parse_uuid(header, "X-Workspace-ID header") != path_id:
        raise BadRequest("The X-Workspace-ID header does not match the workspace in the path.")
    return path_id


def check_rate_limit(request: Request, workspace_id: uuid.UUID) -> None:
    wait = app_state(request).rate_limiter.check(workspace_id)
    if wait is not None:
        raise RateLimited("The rate limit of this workspace is exceeded; retry later.", wait)


def record_key_use(request: Request, session: Session | Connection, principal: Principal) -> None:
    """Stamps the key's last_used_at (at most once a minute, auth.LAST_USED_RESOLUTION),
    never waiting for a lock to do it (insights.web.key_use)."""
    writing = request.method not in READ_METHODS
    app_state(request).key_uses.record(session, principal, writing=writing)


def require(scope: str) -> Callable[..., Access]:
    """A dependency that admits a key of this workspace with at least `scope`."""

    def check(request: Request, session: SessionDep) -> Access:
        return check_access(request, session, scope)

    check.needed_scope = scope  # type: ignore[attr-defined]
    return check


def check_access(request: Request, reader: Session | Connection, scope: str) -> Access:
    """The contract's checks in order, on `reader` (the request's session, or for a route
    that needs no session a bare connection, which costs less)."""
    principal, version = app_state(request).keys.check(reader, bearer_key(request))
    access = _granted(request, principal, version, scope)
    check_rate_limit(request, access.workspace_id)
    # No existence check (the contract's 404) is needed here: the key was just read in this
    # transaction and its row cascades with its workspace, so a granted workspace exists;
    # every other workspace ID has had its 403 already. One query saved a call.
    record_key_use(request, reader, principal)
    return access


def _granted(request: Request, principal: Principal, version: int, scope: str) -> Access:
    """The checks after the key's (400, 403): the workspace of the path, the key's grant."""
    workspace_id = _workspace_in_path(request)
    if principal.workspace_id != workspace_id:
        raise Forbidden("This API key does not grant access to this workspace.")
    if not principal.allows(scope):
        raise Forbidden(f"This call needs an API key with the {scope} scope.")
    return Access(principal, workspace_id, version)


class AccessFirstRoute(APIRoute):
    """A route that reports a body that is not JSON only after the caller's key passed:
    FastAPI parses the body before any dependency runs, the contract checks the key first."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        scope = _needed_scope(self.dependant)
        if scope is None:
            return handler

        async def checked(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                if any(error.get("type") == "json_invalid" for error in exc.errors()):
                    async with app_state(request).session_slots.held():
                        await run_blocking(_check_access, request, scope)
                raise

        return checked


def _needed_scope(dependant: Dependant) -> str | None:
    for sub in dependant.dependencies:
        scope = getattr(sub.call, "needed_scope", None) or _needed_scope(sub)
        if scope is not None:
            return str(scope)
    return None


def _check_access(request: Request, scope: str) -> Access:
    with transaction(_session_factory(request)) as session:
        return require(scope)(request, session)


async def _read_access_alone(request: Request) -> Access:
    """ReadAccess for an async route that needs no session (an answer from the report
    cache): on the event loop alone when it can be (below), else on one worker thread on a
    connection of its own (no ORM session: half the cost of the check), holding a session
    slot while it has the connection."""
    state = app_state(request)
    access = await _read_access_on_loop(request, state)
    if access is not None:
        return access
    async with state.session_slots.held():
        return await run_blocking(_check_read_access, request)


async def _read_access_on_loop(request: Request, state: AppState) -> Access | None:
    """The read check of a key this process checked lately (insights.web.key_cache), when
    the workspace's data version, read afresh on the loop (insights.web.versions), is still
    the one it was checked at and the key's last use needs no stamp: no thread, no slot, no
    pooled connection. None: check it the ordinary way (nothing was counted yet)."""
    trusted = state.keys.trusted(bearer_key(request))
    if trusted is None:
        return None
    principal, version = trusted
    if await state.versions.read(principal.workspace_id) != version:
        return None
    if state.key_uses.due(principal):
        return None
    metrics.count_key_check(cached=True)
    access = _granted(request, principal, version, "read")
    if state.rate_limiter.remote:
        await run_blocking(check_rate_limit, request, access.workspace_id)
    else:
        check_rate_limit(request, access.workspace_id)
    return access


def _check_read_access(request: Request) -> Access:
    read_engine: Engine = app_state(request).read.kw["bind"]
    with read_engine.connect() as connection:
        return check_access(request, connection, "read")


_read_access_alone.needed_scope = "read"  # type: ignore[attr-defined]


async def _write_access_released(request: Request) -> Access:
    """WriteAccess checked in a transaction of its own, committed before the route runs:
    the member upload then reads its body for as long as its client takes to send it
    without holding a database connection (nor a session slot)."""
    async with app_state(request).session_slots.held():
        return await run_blocking(_check_write_access, request)


def _check_write_access(request: Request) -> Access:
    with transaction(app_state(request).write) as session:
        return require("write")(request, session)


ReadAccess = Annotated[Access, Depends(require("read"))]
WriteAccess = Annotated[Access, Depends(require("write"))]
AdminAccess = Annotated[Access, Depends(require("admin"))]
# For a route that holds no session while it runs (it opens its own when it needs one).
ReleasedWriteAccess = Annotated[Access, Depends(_write_access_released)]
ReleasedReadAccess = Annotated[Access, Depends(_read_access_alone)]


def _page(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")] = 20,
) -> Page:
    return Page(page, page_size)


PageDep = Annotated[Page, Depends(_page)]
