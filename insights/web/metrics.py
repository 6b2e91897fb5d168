"""The request metrics middleware: every answer counted by method, route template and
status, and timed, whatever answered it (a route, the error handler, the body limit)."""

from __future__ import annotations

import time

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from insights import metrics

# Any other method a client sends is counted as OTHER: a label value per made-up method
# would let clients grow the series without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """Outermost but for Starlette's own error middleware: an exception that gets past the
    handlers becomes a 500 there, and is counted as one here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            elapsed = time.perf_counter() - started
            metrics.count_request(method, route_template(scope), status, elapsed)


def route_template(scope: Scope) -> str:
    """The template of the route the router matched (`/api/v1/workspaces/{workspace_id}`),
    never the path itself; metrics.UNMATCHED when none did."""
    route = scope.get("route") or _mount_of(scope)
    template = getattr(route, "path_format", None)
    return template if isinstance(template, str) and template else metrics.UNMATCHED


def _mount_of(scope: Scope) -> Mount | None:
    """The mount (/static) that answered: FastAPI names a matched route in the scope, but
    of a mount leaves only the app it handed the request to."""
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return None
    mounts = (r for r in getattr(scope.get("app"), "routes", ()) if isinstance(r, Mount))
    return next((mount for mount in mounts if mount.app is endpoint), None)
