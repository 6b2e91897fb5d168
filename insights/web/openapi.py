"""The OpenAPI document, made for client generators: short operation IDs (the route's
name), a one-line summary on every operation, the error body on every error status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The body of every error response (contract section 1)."""

    error: str = Field(
        description="One sentence naming the offending parameter, field or ID.",
        examples=["Audience 6f1c2f0e-4a55-4c1e-9d7e-0a8f0d1e2b3c does not exist."],
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed input, or a bad X-Workspace-ID"},
    401: {"model": ErrorBody, "description": "Missing, malformed, unknown or revoked key"},
    403: {"model": ErrorBody, "description": "The key does not grant this workspace or call"},
    404: {"model": ErrorBody, "description": "The workspace, object or run does not exist"},
    429: {"model": ErrorBody, "description": "Rate limit exceeded; see Retry-After"},
    503: {
        "model": ErrorBody,
        "description": "The database is unreachable, or busy: retry after Retry-After",
    },
}


def operation_id(route: APIRoute) -> str:
    """`list_syncs`, `get_sync_health`: the route's own name, unique across the API."""
    return route.name


def describe_api(app: FastAPI) -> None:
    """Gives every operation a summary: its own, or the first line of its docstring."""
    for route in app.routes:
        if isinstance(route, APIRoute) and not route.summary:
            doc = (route.description or "").strip().splitlines()
            route.summary = doc[0].rstrip(".") if doc else route.name.replace("_", " ")
