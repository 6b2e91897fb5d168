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

from insights.auth import Principal, authenticate
from insights.errors import Forbidden, LoginRequired
from insights.models import ApiKey, Workspace
from insights.settings import Settings
from insights.types import parse_uuid
from insights.web.deps import bearer_key, check_rate_limit, record_key_use
from insights.workspaces import get_workspace

log = logging.getLogger(__name__)

COOKIE = "insights_session"
_SALT = "insights.dashboard.session"


@dataclass(frozen=True)
class Sessions:
    """Signs and reads the session cookie. Without INSIGHTS_SESSION_SECRET the secret is
    made per process, so sessions end with it and no other process accepts them."""

    serializer: URLSafeTimedSerializer
    max_age: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Sessions:
        secret = settings.session_secret
        if not secret:
            log.warning("INSIGHTS_SESSION_SECRET is unset: dashboard sessions are per process")
            secret = secrets.token_urlsafe(32)
        serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        return cls(serializer, settings.session_max_age_seconds)


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.dashboard_sessions
    return found


@dataclass(frozen=True)
class Viewer:
    """A checked page view: the key behind it and the workspace it may see."""

    principal: Principal
    workspace: Workspace
    via_cookie: bool


def set_session(request: Request, response: Response, principal: Principal) -> None:
    """Signs (key id, workspace id) into the cookie; never the key itself."""
    cookies = sessions(request)
    token = cookies.serializer.dumps({"k": str(principal.key_id), "w": str(principal.workspace_id)})
    response.set_cookie(
        COOKIE,
        token,
        max_age=cookies.max_age,
        expires=cookies.max_age,
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
    cookies = sessions(request)
    try:
        data: dict[str, Any] = cookies.serializer.loads(token, max_age=cookies.max_age)
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
        raise LoginRequired(session_ended=COOKIE in request.cookies)
    return principal, True


def view_workspace(request: Request, session: Session, raw_workspace_id: str) -> Viewer:
    """The contract's order for pages: who (redirect or 401), the path (400), the grant
    (403), the rate limit (429), existence (404)."""
    principal, via_cookie = _principal(request, session)
    workspace_id = parse_uuid(raw_workspace_id, "workspace ID")
    if principal.workspace_id != workspace_id:
        raise Forbidden("This API key does not grant access to this workspace.")
    check_rate_limit(request, workspace_id)
    workspace = get_workspace(session, workspace_id)
    record_key_use(request, session, principal)
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
