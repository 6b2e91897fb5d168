"""The error tree: each error knows its HTTP status; nothing here imports the web stack."""

from __future__ import annotations


class InsightsError(Exception):
    """Base of every error the service reports to a client."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(InsightsError):
    status_code = 400


class Unauthorized(InsightsError):
    status_code = 401


class Forbidden(InsightsError):
    status_code = 403


class NotFound(InsightsError):
    status_code = 404


class Conflict(InsightsError):
    status_code = 409


class RateLimited(InsightsError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
