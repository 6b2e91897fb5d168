"""GET /metrics: the Prometheus scrape, outside /api/v1; a bearer token when one is set."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from insights import metrics
from insights.alerts.collector import FiringAlerts
from insights.errors import Unauthorized
from insights.web.state import app_state

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
def read_metrics(request: Request) -> Response:
    """Every process's metrics added up, and the firing alerts counted in the database."""
    state = app_state(request)
    check_token(state.settings.metrics_token, request.headers.get("authorization"))
    body, content_type = metrics.exposition([FiringAlerts(state.read)])
    return Response(body, media_type=content_type)


def check_token(token: str | None, authorization: str | None) -> None:
    """Nothing to check without a token; else the header must be `Bearer <token>` (401)."""
    if not token:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise Unauthorized("An Authorization: Bearer <metrics token> header is required.")
