"""Liveness and readiness, outside /api/v1 and without a key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from insights.db import connections_in_use, ping
from insights.web.state import app_state

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers (on the event loop: never queued behind requests
    waiting for a worker thread)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers a connection of the probe's own (503 when it does
    not). A process whose pooled connections are all in use is busy, not down: it answers
    200 with `"database": "busy"`, so a load balancer does not take a healthy process out."""
    state = app_state(request)
    if not ping(state.probe):
        return JSONResponse({"error": "The database is unreachable."}, status_code=503)
    in_use, limit = connections_in_use(state.engine)
    body: dict[str, Any] = {
        "status": "ready",
        "database": "busy" if limit is not None and in_use >= limit else "up",
        "connections_in_use": in_use,
        "connections": limit,
    }
    return JSONResponse(body)
