"""The one error path: whatever a request raised becomes an InsightsError, rendered as the
dashboard's error page on the dashboard's own paths and as the contract's JSON body
everywhere else (the API, the probes, a path nothing serves)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from insights.errors import (
    BadRequest,
    InsightsError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from insights.validation import describe_validation_error, sentence

log = logging.getLogger(__name__)

# Renders an error as an HTML page (the dashboard's); the API never uses it.
HtmlErrorPage = Callable[[Request, InsightsError], Response]


def json_error(error: InsightsError) -> JSONResponse:
    """The contract's error body, with the error's own headers."""
    return JSONResponse(
        {"error": error.message}, status_code=error.status_code, headers=error.headers
    )


def install_error_handler(
    app: FastAPI, html_page: HtmlErrorPage | None = None, html_paths: tuple[str, ...] = ()
) -> None:
    """Routes every exception a request raises through `as_insights_error`; paths that
    start with one of `html_paths` get `html_page`, the others JSON."""

    async def handle(request: Request, exc: Exception) -> Response:
        error = as_insights_error(request, exc)
        if html_page is not None and request.url.path.startswith(html_paths):
            return html_page(request, error)
        return json_error(error)

    # Named classes are handled where they are raised; a handler for Exception alone
    # would answer from Starlette's outermost middleware, which then re-raises.
    for kind in (InsightsError, RequestValidationError, HTTPException, SQLAlchemyError, Exception):
        app.add_exception_handler(kind, handle)


def as_insights_error(request: Request, exc: Exception) -> InsightsError:
    """The InsightsError that tells the client what went wrong, in the service's voice."""
    if isinstance(exc, InsightsError):
        return exc
    if isinstance(exc, RequestValidationError):
        return BadRequest(describe_validation_error(exc.errors()))
    if isinstance(exc, HTTPException):
        return _from_http(request, exc)
    if isinstance(exc, PoolTimeout):
        log.warning("no database connection free: %s", exc)
        return ServiceUnavailable(
            "Every database connection of this process is in use; retry shortly.", 1
        )
    if isinstance(exc, OperationalError) and _sqlite_locked(exc):
        # SQLite's busy timeout ran out behind another writer: busy, not down.
        log.warning("database write lock not free: %s", exc.orig)
        return ServiceUnavailable("The database is busy with other writes; retry shortly.", 1)
    if isinstance(exc, OperationalError):
        log.warning("database unavailable: %s", exc)
        return ServiceUnavailable("The database is unreachable; retry shortly.")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        log.warning("database connection lost: %s", exc)
        return ServiceUnavailable("The database connection was lost; retry shortly.")
    log.error("unhandled error", exc_info=exc)
    return InternalError("Internal error.")


def _sqlite_locked(exc: OperationalError) -> bool:
    return str(exc.orig).startswith(("database is locked", "database table is locked"))


def _from_http(request: Request, exc: HTTPException) -> InsightsError:
    # FastAPI wraps an error raised while it reads the body (the body limit's) in a 400.
    if isinstance(exc.__cause__, InsightsError):
        return exc.__cause__
    if exc.status_code == 404:
        return NotFound(f"No route matches {request.method} {request.url.path}.")
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        return MethodNotAllowed(
            f"Method {request.method} is not allowed on {request.url.path}.", allow
        )
    if exc.status_code == 413:
        return PayloadTooLarge(sentence(str(exc.detail)))
    return BadRequest(sentence(str(exc.detail)))
