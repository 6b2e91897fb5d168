"""Liveness and readiness, outside /api/v1 and without a key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from insights.db import ping
from insights.web.state import app_state

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers (503 when it does not)."""
    if ping(app_state(request).engine):
        return JSONResponse({"status": "ready"})
    return JSONResponse({"error": "the database is unreachable"}, status_code=503)
