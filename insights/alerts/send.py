"""Sending one notification (contract 9.3): the webhook body with its HMAC signature and
delivery ID, or Slack's one-line text; a POST with a 5-second timeout to the address
checked just before (the private-address guard holds at send time too, and the connection
goes to the very address checked, with the URL's host for TLS and the Host header)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from insights.alerts.addresses import check_url
from insights.alerts.outbox import Claimed
from insights.errors import BadRequest
from insights.types import format_timestamp

TIMEOUT_SECONDS = 5.0
USER_AGENT = "SignalSmith-Insights-Alerts/1"


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: the status code if any answer came, the error if not 2xx."""

    status_code: int | None
    error: str | None


def webhook_body(claimed: Claimed, sent_at: float) -> dict[str, Any]:
    stored = json.loads(claimed.body)
    return {
        "id": str(claimed.id),
        "event": claimed.event,
        "workspace_id": str(claimed.workspace_id),
        "alert": stored["alert"],
        "sent_at": format_timestamp_seconds(sent_at),
    }


def format_timestamp_seconds(unix_seconds: float) -> str:
    return format_timestamp(datetime.fromtimestamp(unix_seconds, UTC))


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` keyed by the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def slack_text(claimed: Claimed, public_url: str) -> str:
    """One line: what happened, to which subject, the figures, and a link to the page."""
    alert = json.loads(claimed.body)["alert"]
    firing = claimed.event == "alert.firing"
    what = "Firing" if firing else "Resolved"
    figures = _figures(alert["details"]) if firing else ""
    link = f"{public_url.rstrip('/')}/workspaces/{claimed.workspace_id}/alerts"
    subject = f"{alert['subject_type']} {alert['subject_name']}"
    return f"{what}: {alert['rule_name']} ({alert['condition']}) on {subject}{figures}. {link}"


def _figures(details: dict[str, Any]) -> str:
    shown = [
        f"{name} {value}"
        for name, value in details.items()
        if isinstance(value, int | float | str) and not name.endswith("_id")
    ]
    return f": {', '.join(shown)}" if shown else ""


def request_parts(claimed: Claimed, public_url: str, now: float) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers of this notification's POST."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Insights-Delivery": str(claimed.id),
    }
    if claimed.channel_type == "slack":
        payload: dict[str, Any] = {"text": slack_text(claimed, public_url)}
    else:
        payload = webhook_body(claimed, now)
    body = json.dumps(payload, separators=(",", ":")).encode()
    if claimed.channel_type == "webhook" and claimed.channel_secret:
        timestamp = str(int(now))
        headers["X-Insights-Timestamp"] = timestamp
        headers["X-Insights-Signature"] = signature(claimed.channel_secret, timestamp, body)
    return body, headers


async def send(
    client: httpx.AsyncClient, claimed: Claimed, public_url: str, allow_private: bool
) -> Attempt:
    """One attempt; never raises for what the receiver or the network does."""
    try:
        destination = check_url(claimed.channel_url, allow_private)
    except BadRequest as exc:
        return Attempt(None, f"Not sent: {exc.message}")
    body, headers = request_parts(claimed, public_url, time.time())
    parts = destination.url
    host = f"[{destination.address}]" if ":" in destination.address else destination.address
    pinned = parts._replace(netloc=f"{host}:{destination.port}").geturl()
    default_port = 443 if parts.scheme == "https" else 80
    headers["Host"] = (
        destination.host if destination.port == default_port else parts.netloc.split("@")[-1]
    )
    extensions = {"sni_hostname": destination.host} if parts.scheme == "https" else {}
    try:
        response = await client.post(
            pinned, content=body, headers=headers, extensions=extensions, timeout=TIMEOUT_SECONDS
        )
    except httpx.TimeoutException:
        return Attempt(None, f"No answer within {TIMEOUT_SECONDS:g} seconds.")
    except httpx.HTTPError as exc:
        return Attempt(None, f"Could not connect: {type(exc).__name__}.")
    if 200 <= response.status_code < 300:
        return Attempt(response.status_code, None)
    return Attempt(response.status_code, f"The receiver answered {response.status_code}.")
