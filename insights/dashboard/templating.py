"""The dashboard's Jinja2 environment: where templates live, number formats, page headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from insights.dashboard.formats import (
    HEALTH_BANDS,
    compact,
    duration,
    iso,
    number,
    percent,
    rate,
    signed,
    span,
    when,
    when_short,
)

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

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


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters.update(
    number=number,
    compact=compact,
    percent=percent,
    rate=rate,
    signed=signed,
    duration=duration,
    span=span,
    iso=iso,
    when=when,
    when_short=when_short,
)
templates.env.globals["HEALTH_BANDS"] = HEALTH_BANDS
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


def compile_templates() -> None:
    """Compiles every template now (the warm-up), not on the first page that renders it."""
    for name in templates.env.list_templates():
        templates.env.get_template(name)
