"""The sync-observability pages in a real browser (contract 8): the score column sorts and
filters, its bands carry words and numbers and stay readable in light and dark, the sync
detail, SLA and velocity figures and chart marks are the JSON's. The screenshots of these
pages are taken with every other page's (test_dashboard_browser.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.browser import (
    BROWSER_TESTS,
    SCREENSHOTS,
    Service,
    api_json,
    duration,
    number,
    percent,
    signed_in,
    text,
    texts,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = BROWSER_TESTS

BAND_WORDS = {
    "healthy": "Healthy",
    "warning": "Warning",
    "degraded": "Degraded",
    "critical": "Critical",
    "no_data": "No data",
    "paused": "Paused",
}


def score_values(page: Page) -> list[str]:
    cells = page.locator("#sync-table td.score-cell")
    return [str(v) for v in cells.evaluate_all("cells => cells.map(c => c.dataset.value)")]


def luminance(css: str) -> float:
    """Relative luminance (WCAG 2) of an rgb()/rgba() colour."""
    red, green, blue = (int(c) / 255 for c in re.findall(r"\d+(?:\.\d+)?", css)[:3])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# --- the sync table ------------------------------------------------------------------------


def test_score_column_shows_the_api_scores_and_sorts_empty_last(
    browser: Browser, service: Service
) -> None:
    page = signed_in(browser, service)
    page.goto(service.url("/sync-health?days=7"))
    report = api_json(page, service, "sync-health?days=7")
    for entry in report["syncs"]:
        row = page.locator(f'tr[data-sync-id="{entry["sync_id"]}"]')
        score = entry["health_score"]
        assert text(row, '[data-field="health_score"]') == number(score)
        assert BAND_WORDS[entry["health_status"]] in text(row, "td.score-cell")
    for _ in range(2):  # ascending, then descending
        page.click("#sync-table th:has-text('Score') button")
        values = score_values(page)
        scored = [int(v) for v in values if v]
        ascending = page.locator("#sync-table th[aria-sort]").get_attribute("aria-sort")
        assert scored == sorted(scored, reverse=ascending == "descending")
        assert values[len(scored) :] == [""] * (len(values) - len(scored))  # unscored last
    page.context.close()


def test_the_band_filter_and_the_name_filter_combine(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    page.goto(service.url("/sync-health?days=7"))
    report = api_json(page, service, "sync-health?days=7")
    for band in ("healthy", "warning", "critical"):
        page.select_option("#band", band)
        expected = [e["sync_id"] for e in report["syncs"] if e["health_status"] == band]
        shown = page.locator("#sync-table tbody tr:visible").evaluate_all(
            "rows => rows.map(r => r.dataset.syncId)"
        )
        assert shown == expected, band
        assert text(page, '[data-count-for="sync-table"]') == str(len(expected))
    page.select_option("#band", "healthy")
    page.fill("#q", "salesforce")
    expected = [
        e["sync_id"]
        for e in report["syncs"]
        if e["health_status"] == "healthy" and "salesforce" in e["sync_name"].lower()
    ]
    assert page.locator("#sync-table tbody tr:visible").count() == len(expected) > 0
    page.context.close()


def test_a_sync_name_leads_to_its_detail_page(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    page.goto(service.url("/sync-health"))
    sync_id = service.seeded.syncs["Invoices to Salesforce"]
    page.click(f'tr[data-sync-id="{sync_id}"] a[data-field="sync_name"]')
    page.wait_for_url(re.compile(rf".*/syncs/{sync_id}$"))
    assert text(page, "main h1") == "Invoices to Salesforce"
    page.click(".crumbs a")
    page.wait_for_url(re.compile(r".*/sync-health$"))
    page.context.close()


# --- the sync detail page ------------------------------------------------------------------


def detail_page(browser: Browser, service: Service, name: str) -> tuple[Page, dict[str, Any]]:
    page = signed_in(browser, service)
    sync_id = service.seeded.syncs[name]
    page.goto(service.url(f"/syncs/{sync_id}?days=30"))
    return page, api_json(page, service, f"syncs/{sync_id}?days=30")


def chart_values(page: Page, selector: str) -> list[float]:
    marks = page.locator(selector)
    return [float(v) for v in marks.evaluate_all("ms => ms.map(m => m.dataset.value)")]


@pytest.mark.parametrize("name", ["Products to Google Ads", "Invoices to Salesforce"])
def test_sync_detail_figures_and_charts_are_the_json(
    browser: Browser, service: Service, name: str
) -> None:
    page, detail = detail_page(browser, service, name)
    assert text(page, "#score .score-value") == number(detail["health_score"])
    assert BAND_WORDS[detail["health_status"]] in text(page, "#score .score")
    for part, points in detail["health_components"].items():
        assert text(page, f'[data-field="health_components.{part}"]') == f"{points:g}"
        assert page.locator(f'[data-sentence="{part}"]').is_visible()
    history = [p["health_score"] for p in detail["score_history"] if p["health_score"] is not None]
    assert chart_values(page, "#score-history circle.point") == history
    duration_points = detail["duration"]["data_points"]
    assert chart_values(page, "#duration rect.bar") == [
        p["avg_duration_seconds"] for p in duration_points
    ]
    assert chart_values(page, "#duration rect.mark") == [
        p["max_duration_seconds"] for p in duration_points
    ]
    assert chart_values(page, "#throughput rect.bar") == [
        p["rows_per_second"] for p in detail["throughput"]["data_points"]
    ]
    for key in ("avg", "p50", "p95", "max"):
        seconds = detail["duration"][f"{key}_duration_seconds"]
        assert text(page, f'[data-field="duration.{key}_duration_seconds"]') == duration(seconds)
    assert text(page, '[data-field="throughput.rows_synced"]') == number(
        detail["throughput"]["rows_synced"]
    )
    assert page.locator("#runs-table tbody tr").count() == len(detail["recent_runs"])
    first = detail["recent_runs"][0]
    assert text(page, '#runs-table tbody tr >> nth=0 >> [data-field="duration_seconds"]') == (
        duration(first["duration_seconds"])
    )
    page.context.close()


def test_sync_detail_sla_card_is_the_json_sla(browser: Browser, service: Service) -> None:
    page, detail = detail_page(browser, service, "Invoices to Salesforce")
    sla = detail["sla"]
    assert "Breached" in text(page, '#sla [data-field="sla.state"]')
    assert text(page, '[data-field="sla.freshness_compliance_percent"]') == percent(
        sla["freshness_compliance_percent"]
    )
    assert text(page, '[data-field="sla.duration_breaches"]') == number(sla["duration_breaches"])
    stale = page.locator('[data-field="sla.stale_since"]')
    assert stale.get_attribute("datetime") == sla["stale_since"]
    page.context.close()


def test_chart_marks_have_tooltips(browser: Browser, service: Service) -> None:
    page, detail = detail_page(browser, service, "Products to Google Ads")
    latest = detail["duration"]["data_points"][-1]
    mark = page.locator(f'#duration rect.bar[data-date="{latest["date"]}"]')
    words = f"{latest['date']}, average: {duration(latest['avg_duration_seconds'])}"
    assert mark.get_attribute("aria-label") == words  # the script turns <title> into both
    mark.hover()
    assert page.locator(".tooltip").is_visible()
    assert text(page, ".tooltip") == words
    page.context.close()


# --- SLA compliance and velocity -----------------------------------------------------------


def test_sla_page_shows_the_sla_report(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    page.goto(service.url("/sync-sla?days=30"))
    report = api_json(page, service, "sync-sla?days=30")
    for name in ("syncs_with_sla", "syncs_met", "syncs_breached"):
        assert text(page, f'.tile [data-field="{name}"]') == number(report[name])
    assert page.locator("#sla-table tbody tr").count() == len(report["syncs"])
    for entry in report["syncs"]:
        row = page.locator(f'tr[data-sync-id="{entry["sync_id"]}"]')
        assert entry["state"].capitalize() in text(row, '[data-field="state"]')
        assert text(row, '[data-field="freshness_compliance_percent"]') == percent(
            entry["freshness_compliance_percent"]
        )
        assert text(row, '[data-field="freshness_breaches"]') == number(entry["freshness_breaches"])
        assert text(row, '[data-field="duration_runs"]') == number(entry["duration_runs"])
        assert text(row, '[data-field="duration_breaches"]') == number(entry["duration_breaches"])
        assert text(row, '[data-field="duration_compliance_percent"]') == percent(
            entry["duration_compliance_percent"]
        )
    page.context.close()


def test_audience_trends_show_velocity(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    page.goto(service.url("/audience-trends?days=30"))
    velocity = api_json(page, service, "audience-velocity?days=30")["audiences"]
    assert page.locator("#velocity-table tbody tr").count() == len(velocity)
    for entry in velocity:
        row = page.locator(f'#velocity-table tr[data-audience-id="{entry["audience_id"]}"]')
        for key in ("evaluations", "members_added", "members_removed"):
            assert text(row, f'[data-field="{key}"]') == number(entry[key]), key
        assert text(row, '[data-field="net_change"]').endswith(f"{entry['net_change']:+,}")
        velocity_shown = text(row, '[data-field="change_velocity"]')
        assert velocity_shown == number(entry["change_velocity"])
        card = page.locator(f'article[data-audience-id="{entry["audience_id"]}"]')
        added = card.locator('rect.bar[data-series="added"]')
        assert [float(v) for v in added.evaluate_all("ms => ms.map(m => m.dataset.value)")] == [
            p["added"] for p in entry["data_points"]
        ]
        assert texts(card, '[data-field="velocity.removed"]') == [
            number(p["removed"]) for p in entry["data_points"]
        ]
    page.context.close()


# --- colour: never alone, readable in both schemes -----------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_score_bands_have_words_and_readable_text_in_both_schemes(
    browser: Browser, service: Service, scheme: str
) -> None:
    page = signed_in(browser, service, color_scheme=scheme)
    page.goto(service.url("/sync-health?days=7"))
    borders: dict[str, str] = {}
    for badge in page.locator("#sync-table .score").all():
        status = str(badge.get_attribute("data-value"))
        words = badge.evaluate("e => e.textContent.trim()")
        assert BAND_WORDS[status] in words and re.search(r"\d|\u2014", words), words
        style = badge.evaluate(
            """e => { const s = getComputedStyle(e);
                 return {color: s.color, background: s.backgroundColor,
                         border: s.borderLeftColor}; }"""
        )
        assert contrast(style["color"], style["background"]) >= 4.5, (scheme, status, style)
        borders[status] = style["border"]
    bands = [borders[s] for s in ("healthy", "warning", "degraded", "critical")]
    assert len(set(bands)) == 4, bands  # four colours, besides the four words
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#sync-table").screenshot(path=str(SCREENSHOTS / f"score-bands-{scheme}.png"))
    page.context.close()
