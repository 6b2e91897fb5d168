"""Who is looking at a dashboard page: the signed session cookie or a bearer key."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.api.deps import app_state, bearer_key, parse_uuid
from insights.auth import Principal, authenticate, needs_touch, touch_key
from insights.db import transaction
from insights.errors import Forbidden, NotFound, RateLimited
from insights.models import ApiKey, Workspace

log = logging.getLogger(__name__)

COOKIE = "insights_session"
_SALT = "insights.dashboard.session"
# Used when INSIGHTS_SESSION_SECRET is unset: sessions then last only as long as the process
# and are not valid in any other process, hence the warning.
_PROCESS_SECRET = secrets.token_urlsafe(32)
_warned = False


class LoginRequired(Exception):
    """No (valid) session and no bearer key: the page answers with a redirect to /login."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "")
        self.message = message


@dataclass(frozen=True)
class Viewer:
    """A checked page view: the key behind it and the workspace it may see."""

    principal: Principal
    workspace: Workspace
    via_cookie: bool


def _serializer(request: Request) -> URLSafeTimedSerializer:
    global _warned
    secret = app_state(request).settings.session_secret
    if not secret and not _warned:
        _warned = True
        log.warning("INSIGHTS_SESSION_SECRET is unset: dashboard sessions are per process")
    return URLSafeTimedSerializer(secret or _PROCESS_SECRET, salt=_SALT)


def set_session(request: Request, response: Response, principal: Principal) -> None:
    """Signs (key id, workspace id) into the cookie; never the key itself."""
    max_age = app_state(request).settings.session_max_age_seconds
    token = _serializer(request).dumps(
        {"k": str(principal.key_id), "w": str(principal.workspace_id)}
    )
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        expires=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def session_principal(request: Request, session: Session) -> Principal | None:
    """The principal of the session cookie if it is genuine, unexpired and its key active."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    max_age = app_state(request).settings.session_max_age_seconds
    try:
        data: dict[str, Any] = _serializer(request).loads(token, max_age=max_age)
        key_id, workspace_id = uuid.UUID(data["k"]), uuid.UUID(data["w"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    key = session.scalars(
        select(ApiKey).where(ApiKey.workspace_id == workspace_id, ApiKey.id == key_id)
    ).first()
    if key is None or key.status != "active":
        return None  # a revoked key ends every session it opened
    return Principal(key.id, key.workspace_id, key.scope, key.last_used_at)


def _principal(request: Request, session: Session) -> tuple[Principal, bool]:
    if "authorization" in request.headers:
        return authenticate(session, bearer_key(request)), False
    principal = session_principal(request, session)
    if principal is None:
        ended = COOKIE in request.cookies
        raise LoginRequired("Your session has ended; please sign in again." if ended else None)
    return principal, True


def view_workspace(request: Request, session: Session, raw_workspace_id: str) -> Viewer:
    """The contract's order for pages: who (redirect or 401), the path (400), the grant
    (403), the rate limit (429), existence (404)."""
    principal, via_cookie = _principal(request, session)
    workspace_id = parse_uuid(raw_workspace_id, "workspace id")
    if principal.workspace_id != workspace_id:
        raise Forbidden("This key does not grant access to this workspace.")
    wait = app_state(request).rate_limiter.check(workspace_id)
    if wait is not None:
        raise RateLimited("Too many requests for this workspace; retry shortly.", wait)
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"Workspace {workspace_id} does not exist.")
    if needs_touch(principal):
        # The page's own session stays read-only (SQLite could not upgrade it).
        with transaction(app_state(request).write) as write_session:
            touch_key(write_session, principal)
    return Viewer(principal, workspace, via_cookie)


def same_origin(request: Request) -> bool:
    """False for a form posted from another site (defence beside SameSite=Strict)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def safe_next(raw: str | None, workspace_id: uuid.UUID) -> str:
    """Where to go after signing in: a page of the key's own workspace, never elsewhere."""
    home = f"/workspaces/{workspace_id}"
    if raw and (raw == home or raw.startswith(home + "/") or raw.startswith(home + "?")):
        return raw
    return home
