"""The dashboard's Jinja2 environment: where templates live, number formats, page headers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
DASH = "\u2014"  # shown where the JSON has null

# Everything a page loads comes from the service itself; inline styles and scripts are off.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def number(value: int | float | None) -> str:
    """125000 -> '125,000'; None -> an em dash."""
    if value is None:
        return DASH
    return f"{value:,}"


def compact(value: int | None) -> str:
    """A short count for chart labels: 950, 12.3k, 4.1M."""
    if value is None:
        return DASH
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return str(value)


def percent(value: float | None, places: int = 1) -> str:
    """A value already in percent: 75.3 -> '75.3%'."""
    if value is None:
        return DASH
    return f"{value:.{places}f}%"


def rate(value: float | None) -> str:
    """A 0..1 ratio of 2 decimals as a whole percentage: 0.98 -> '98%'."""
    if value is None:
        return DASH
    return f"{round(value * 100)}%"


def signed(value: int | float | None, places: int | None = None) -> str:
    """A change with its sign: +150, -20, +3.66."""
    if value is None:
        return DASH
    text = f"{abs(value):,}" if places is None else f"{abs(value):,.{places}f}"
    return ("-" if value < 0 else "+") + text


def duration(seconds: int | None) -> str:
    """145 -> '2m 25s'; 3900 -> '1h 05m'."""
    if seconds is None:
        return DASH
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def iso(value: datetime | date | None) -> str:
    """The contract's wire form, for <time datetime> and data-* attributes."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def when(value: datetime | None) -> str:
    """A timestamp for people: '2024-01-15 15:00 UTC'."""
    if value is None:
        return DASH
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def when_short(value: datetime | None) -> str:
    """A timestamp where room is short (a matrix cell): 'Jan 15 15:00' (UTC)."""
    if value is None:
        return DASH
    return value.astimezone(UTC).strftime("%b %d %H:%M")


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters.update(
    number=number,
    compact=compact,
    percent=percent,
    rate=rate,
    signed=signed,
    duration=duration,
    iso=iso,
    when=when,
    when_short=when_short,
)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def warm_templates() -> None:
    """Compiles every template once (Jinja2 caches them for the process)."""
    for name in templates.env.list_templates(extensions=["html"]):
        templates.env.get_template(name)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page with the dashboard's security headers."""
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update({**SECURITY_HEADERS, **(headers or {})})
    return response
