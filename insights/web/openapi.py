"""The OpenAPI document, made for client generators: short operation IDs (the route's
name), a one-line summary on every operation."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    """`list_syncs`, `get_sync_health`: the route's own name, unique across the API."""
    return route.name


def describe_api(app: FastAPI) -> None:
    """Gives every operation a summary: its own, or the first line of its docstring, or
    its name in words."""
    for route in app.routes:
        if isinstance(route, APIRoute) and not route.summary:
            route.summary = _summary(route)


def _summary(route: APIRoute) -> str:
    doc = (route.description or "").strip().splitlines()
    if doc:
        return doc[0].rstrip(".")
    return route.name.replace("_", " ").capitalize()
