"""create_app(settings): the routers, the one error body, the body limit, the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from insights.api import evaluations, health, insights, members, resources, runs, workspaces
from insights.api.deps import AppState
from insights.bitmap_reads import PARALLEL_READS, parallel_reads
from insights.dashboard import add_dashboard
from insights.db import make_engine, make_sessionmakers
from insights.errors import InsightsError, RateLimited, Unauthorized
from insights.members import configure_bitmap_cache
from insights.ratelimit import make_rate_limiter
from insights.settings import Settings

log = logging.getLogger(__name__)

API_DESCRIPTION = (
    "SignalSmith Insights: sync health, audience trends, activation coverage, audience "
    "overlap and a workspace summary, plus the write side that feeds them."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service; the database must already be migrated (the CLI does it first)."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url, settings.db_pool_size)
    read, write = make_sessionmakers(engine)
    configure_bitmap_cache(settings.bitmap_cache_bytes)
    parallel = parallel_reads(settings.database_url, settings.bitmap_read_connections)
    if parallel is not None:
        read.configure(info={PARALLEL_READS: parallel})  # read-only sessions only
    limiter = make_rate_limiter(
        settings.redis_url, settings.rate_limit_per_minute, settings.rate_limit_per_second
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if parallel is not None:
            parallel.dispose()
        engine.dispose()

    app = FastAPI(
        title="SignalSmith Insights API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.insights = AppState(settings, engine, read, write, limiter)
    # The insights first: the most called, and routes are matched in order.
    for module in (insights, health, workspaces, resources, runs, evaluations, members):
        app.include_router(module.router)
    add_dashboard(app)  # the HTML pages and /static
    _add_error_handlers(app)
    app.add_middleware(BodyLimit, settings=settings)
    return app


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InsightsError)
    async def insights_error(_request: Request, exc: InsightsError) -> JSONResponse:
        headers = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        return error_response(exc.status_code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, describe_validation_error(exc.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no route matches {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_down(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return error_response(503, "the database is unreachable; retry shortly")

    @app.exception_handler(DBAPIError)
    async def database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return error_response(503, "the database connection was lost; retry shortly")
        log.exception("database error")
        return error_response(500, "internal error")

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal error")


# Pydantic's error types for a body that is JSON but not an object ([], "text", 42, null).
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "model_type", "dict_type"})


def describe_validation_error(errors: Any) -> str:
    """One sentence naming the offending parameter or field."""
    first: dict[str, Any] = next(iter(errors), {})
    loc = [str(part) for part in first.get("loc", ())]
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    where = {
        "body": "field",
        "query": "query parameter",
        "path": "path parameter",
        "header": "header",
    }.get(loc[0] if loc else "", "input")
    name = ".".join(loc[1:]) or "body"
    message = str(first.get("msg", "is invalid"))
    if loc == ["body"] and first.get("type") == "missing":
        return "a JSON object is required as the request body"
    if loc == ["body"] and first.get("type") in _NOT_AN_OBJECT:
        return "the request body must be a JSON object"
    if first.get("type") == "extra_forbidden":
        return f"unknown field {name}"
    if first.get("type") == "missing":
        return f"{where} {name} is required"
    if where == "field" and name == "body":
        return f"the request body is invalid: {message}"
    return f"{where} {name} is invalid: {message}"


class BodyLimit:
    """413 for a body over the limit, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.stream_limit = settings.max_body_bytes
        self.json_limit = settings.max_json_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.stream_limit if scope["path"].endswith("/members") else self.json_limit
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            response = error_response(413, f"the request body is over {limit} bytes")
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                # An HTTPException, since FastAPI turns other errors while reading into 400.
                raise HTTPException(413, f"the request body is over {limit} bytes")
            return message

        await self.app(scope, counted, send)
