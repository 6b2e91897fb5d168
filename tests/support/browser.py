"""For the browser tests: the seeded service under uvicorn in a thread, signed-in pages, and
the formats the pages show numbers in (written out again, so a wrong value cannot pass)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from insights import alerts, auth, workspaces
from insights.alerts import rules
from insights.app import create_app
from insights.db import make_engine, make_sessionmakers, migrate
from insights.schemas.alerts import AlertRuleCreate
from insights.settings import Settings
from tests.support.dashboard import Seeded, seed_workspace

if TYPE_CHECKING:  # Playwright is imported only by the browser tests that run
    from playwright.sync_api import Browser, Locator, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# Every browser test module carries these: one xdist worker runs them all (one browser, one
# service: the fixtures of tests/conftest.py), and they skip, saying why, without Chromium.
BROWSER_TESTS = [
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium is not installed at /usr/bin/chromium (apt-get install chromium); "
        "CI installs it through `make chromium`",
    ),
]


@dataclass
class Service:
    """The running service: its base URL, the seeded workspace and a key for it."""

    base: str
    workspace_id: uuid.UUID
    key: str
    seeded: Seeded

    def url(self, suffix: str = "") -> str:
        return f"{self.base}/workspaces/{self.workspace_id}{suffix}"

    def pages(self) -> dict[str, str]:
        trio = ",".join(str(i) for i in self.seeded.with_members()[:3])
        five = ",".join(str(i) for i in self.seeded.with_members())
        syncs = self.seeded.syncs
        return {
            "overview": "",
            "sync-health": "/sync-health?days=7",
            "sync-detail": f"/syncs/{syncs['Products to Google Ads']}?days=30",
            "sync-detail-sla": f"/syncs/{syncs['Invoices to Salesforce']}?days=30",
            "sync-sla": "/sync-sla?days=30",
            "audience-trends": "/audience-trends?days=30",
            "activation-coverage": "/activation-coverage",
            "audience-overlap-venn": f"/audience-overlap?audience_ids={trio}",
            "audience-overlap-upset": f"/audience-overlap?audience_ids={five}",
            "alerts": "/alerts",
        }


# Alert rules for the Alerts page; their channels (a public address) are never called.
SEEDED_RULES = [
    {
        "name": "Failing syncs",
        "condition": "sync_failed",
        "channel": {"type": "slack", "url": "https://93.184.215.14/slack"},
    },
    {
        "name": "Critical health",
        "condition": "health_below",
        "threshold": 40,
        "channel": {"type": "webhook", "url": "https://93.184.215.14/hook", "secret": "s"},
    },
]


def _seed(url: str) -> tuple[uuid.UUID, str, Seeded]:
    migrate(url)
    engine = make_engine(url)
    _, write = make_sessionmakers(engine)
    with write() as session, session.begin():
        workspace = workspaces.create_workspace(session, "Acme Retail")
        _, key = auth.mint_key(session, workspace.id, "browser", "read")
        seeded = seed_workspace(session, workspace.id)
        workspace_id = workspace.id
        for rule in SEEDED_RULES:
            rules.create(session, workspace_id, AlertRuleCreate.model_validate(rule), False)
    alerts.evaluate_all(write)  # the rules' alerts open on the seeded syncs
    engine.dispose()
    return workspace_id, key, seeded


@contextmanager
def running_service(url: str) -> Iterator[Service]:
    """The real app on a seeded SQLite file, served by uvicorn on a free port of 127.0.0.1."""
    import uvicorn

    workspace_id, key, seeded = _seed(url)
    settings = Settings(
        database_url=url,
        rate_limit_per_minute=0,
        rate_limit_per_second=0,
        alert_worker=False,  # nothing leaves this machine: the seeded channels are not called
        # The tests compare pages with their JSON twins: a cached answer may trail the clock
        # (scores move with it) by up to the cache's age, while a page computes afresh.
        report_cache_seconds=0,
    )
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, ws="none", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Service(f"http://127.0.0.1:{port}", workspace_id, key, seeded)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def signed_in(browser: Browser, service: Service, **options: Any) -> Page:
    """A new browser page, signed in through the form."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.goto(f"{service.base}/login")
    page.fill("#api_key", service.key)
    page.click("button[type=submit]")
    page.wait_for_url(service.url())
    return page


def api_json(page: Page, service: Service, insight: str) -> dict[str, Any]:
    """The JSON twin, fetched with the key (the page's cookie is not an API credential)."""
    headers = {
        "Authorization": f"Bearer {service.key}",
        "X-Workspace-ID": str(service.workspace_id),
    }
    path = f"/api/v1/workspaces/{service.workspace_id}/insights/{insight}"
    response = page.context.request.get(service.base + path, headers=headers)
    assert response.status == 200, response.text()
    body: dict[str, Any] = response.json()
    return body


# Formats written out again here, so a template that shows another value cannot pass.
def number(value: int | None) -> str:
    return "\u2014" if value is None else f"{value:,}"


def rate(value: float | None) -> str:
    return "\u2014" if value is None else f"{round(value * 100)}%"


def percent(value: float | None, places: int = 1) -> str:
    return "\u2014" if value is None else f"{value:.{places}f}%"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "\u2014"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def attribute(locator: Locator, name: str) -> str:
    """An attribute the element must carry (Playwright gives None for a missing one)."""
    value = locator.get_attribute(name)
    assert value is not None, name
    return value


def text(scope: Page | Locator, selector: str) -> str:
    return str(scope.locator(selector).first.inner_text()).strip()


def texts(scope: Page | Locator, selector: str) -> list[str]:
    """The text of every match, also of those in a closed <details>."""
    return [str(t).strip() for t in scope.locator(selector).all_text_contents()]
