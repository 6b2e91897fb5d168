"""The error tree. Every error the service reports is one of these: it carries its status,
its one-sentence message and its own headers; insights.web.errors renders it (JSON under
/api/, the HTML error page elsewhere). Nothing here imports the web stack.

The voice of every message: one sentence, starting with a capital letter and ending with a
period, naming the offending parameter, field or ID ("Audience 1f2e... does not exist.")."""

from __future__ import annotations


class InsightsError(Exception):
    """Base of every error the service reports to a client."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def headers(self) -> dict[str, str]:
        """Headers the response must carry beside the body."""
        return {}


class BadRequest(InsightsError):
    status_code = 400


class Unauthorized(InsightsError):
    status_code = 401

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class LoginRequired(Unauthorized):
    """No valid dashboard session and no bearer key: a page answers with a redirect to the
    sign-in form (dropping a cookie that no longer opens anything), the API with a 401."""

    def __init__(self, *, session_ended: bool = False) -> None:
        super().__init__(
            "Your session has ended; sign in again."
            if session_ended
            else "Sign in with an API key to see this page."
        )
        self.session_ended = session_ended


class Forbidden(InsightsError):
    status_code = 403


class NotFound(InsightsError):
    status_code = 404


class MethodNotAllowed(InsightsError):
    status_code = 405

    def __init__(self, message: str, allow: str) -> None:
        super().__init__(message)
        self.allow = allow

    @property
    def headers(self) -> dict[str, str]:
        return {"Allow": self.allow}


class Conflict(InsightsError):
    status_code = 409


class PayloadTooLarge(InsightsError):
    status_code = 413


class RateLimited(InsightsError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ClientClosedRequest(InsightsError):
    """The client closed its connection while its request waited for a database session:
    the request is dropped unserved (nobody would read the answer; nginx's 499)."""

    status_code = 499


class InternalError(InsightsError):
    status_code = 500


class ServiceUnavailable(InsightsError):
    """The database is unreachable or too busy; with `retry_after`, when to try again."""

    status_code = 503

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
