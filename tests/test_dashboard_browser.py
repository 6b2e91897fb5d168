"""The dashboard in a real browser (Debian's Chromium through Playwright) against the real
service under uvicorn: sign-in, every page, numbers equal to the JSON, no outside request,
keyboard focus, text beside colour, light and dark screenshots under artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.browser import (
    BROWSER_TESTS,
    SCREENSHOTS,
    Service,
    api_json,
    attribute,
    duration,
    number,
    percent,
    rate,
    signed_in,
    text,
    texts,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = BROWSER_TESTS


# --- every page, both schemes, nothing from outside ----------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_renders_offline_and_is_screenshotted(
    browser: Browser, service: Service, scheme: Literal["light", "dark"]
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{service.base}/login")
    page.screenshot(path=str(SCREENSHOTS / f"login-{scheme}.png"), full_page=True)
    page.fill("#api_key", service.key)
    page.click("button[type=submit]")
    page.wait_for_url(service.url())
    for name, suffix in service.pages().items():
        response = page.goto(service.url(suffix))
        assert response is not None and response.status == 200, name
        assert page.locator("main h1").count() == 1
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}.png"), full_page=True)
    page.goto(service.url("/sync-health?days=0"))
    page.screenshot(path=str(SCREENSHOTS / f"error-{scheme}.png"), full_page=True)
    context.close()
    outside = [url for url in requests if not url.startswith(service.base + "/")]
    assert not outside, outside
    assert [p for p in problems if "status of 400" not in p] == []  # e.g. CSP violations


def test_background_follows_the_colour_scheme(browser: Browser, service: Service) -> None:
    colours: dict[str, str] = {}
    for scheme in ("light", "dark"):
        page = signed_in(browser, service, color_scheme=scheme)
        colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.context.close()
    assert colours["light"] != colours["dark"]


# --- the numbers shown are the JSON's ------------------------------------------------------


def test_overview_shows_the_summary(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    summary = api_json(page, service, "summary")
    for group, counts in summary.items():
        for name, value in counts.items():
            assert text(page, f'[data-field="{group}.{name}"]') == number(value), (group, name)
    health = api_json(page, service, "sync-health?days=7")
    assert text(page, '[data-field="health.failing_syncs"]') == number(health["failing_syncs"])
    assert page.locator("[data-table=failing] tbody tr").count() == health["failing_syncs"]
    page.context.close()


def test_sync_health_table_shows_the_report(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    page.goto(service.url("/sync-health?days=7"))
    report = api_json(page, service, "sync-health?days=7")
    for name in ("total_syncs", "active_syncs", "healthy_syncs", "failing_syncs", "paused_syncs"):
        assert text(page, f'.tile [data-field="{name}"]') == number(report[name])
    assert page.locator("#sync-table tbody tr").count() == len(report["syncs"])
    for entry in report["syncs"]:
        row = page.locator(f'tr[data-sync-id="{entry["sync_id"]}"]')
        assert text(row, '[data-field="sync_name"]') == entry["sync_name"]
        assert text(row, '[data-field="success_rate"]') == rate(entry["success_rate"])
        assert text(row, '[data-field="total_runs"]') == number(entry["total_runs"])
        assert text(row, '[data-field="failed_runs"]') == number(entry["failed_runs"])
        assert text(row, '[data-field="avg_duration_seconds"]') == duration(
            entry["avg_duration_seconds"]
        )
        assert text(row, '[data-field="total_rows_synced"]') == number(entry["total_rows_synced"])
        shown_at = row.locator('[data-field="last_run_at"]')
        if entry["last_run_at"] is None:
            assert text(row, '[data-field="last_run_status"]') == "Never ran"
        else:
            assert shown_at.get_attribute("datetime") == entry["last_run_at"]
            status = text(row, '[data-field="last_run_status"]')
            assert entry["last_run_status"].capitalize() in status
    page.context.close()


def test_audience_trends_show_the_change_figures(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    page.goto(service.url("/audience-trends?days=30"))
    report = api_json(page, service, "audience-trends?days=30")
    cards = page.locator("article.trend")
    assert cards.count() == len(report["audiences"])
    for trend in report["audiences"]:
        card = page.locator(f'article[data-audience-id="{trend["audience_id"]}"]')
        assert text(card, '[data-field="current_size"]') == number(trend["current_size"])
        change = trend["change_absolute"]
        assert text(card, '[data-field="change_absolute"]') == f"{change:+,}"
        assert text(card, '[data-field="change_percent"]') == f"{trend['change_percent']:+.2f}%"
        points = card.locator("svg circle.point")
        sizes = [int(attribute(p, "data-size")) for p in points.all()]
        assert sizes == [point["size"] for point in trend["data_points"]]
        assert card.locator("svg text.tick").count() >= 3  # labelled axes
    page.context.close()


def test_activation_coverage_matrix_shows_the_report(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    page.goto(service.url("/activation-coverage"))
    report = api_json(page, service, "activation-coverage")
    for name in ("total_audiences", "activated_audiences", "unactivated_audiences"):
        assert text(page, f'[data-field="{name}"]') == number(report[name])
    words = {"active": "Active", "error": "Error", "paused": "Paused"}
    configured = 0
    for destination in report["destinations"]:
        for covered in destination["audiences"]:
            cell = page.locator(
                f'tr[data-audience-id="{covered["audience_id"]}"] '
                f'td[data-destination-id="{destination["destination_id"]}"]'
            )
            assert cell.get_attribute("data-status") == covered["sync_status"]
            assert words[covered["sync_status"]] in cell.inner_text()
            configured += 1
    assert page.locator('td.cell:not([data-status="none"])').count() == configured
    shown = texts(page, '#unactivated [data-field="estimated_size"]')
    assert shown == [number(a["estimated_size"]) for a in report["unactivated"]]
    empty = [d["destination_id"] for d in report["destinations"] if d["audience_count"] == 0]
    assert [
        li.get_attribute("data-destination-id")
        for li in page.locator("#empty-destinations li").all()
    ] == empty
    page.context.close()


@pytest.mark.parametrize("count", [2, 3, 5])
def test_audience_overlap_shows_the_report(browser: Browser, service: Service, count: int) -> None:
    page = signed_in(browser, service)
    ids = service.seeded.with_members()[:count]
    page.goto(service.url("/audience-overlap"))
    for audience_id in ids:  # through the form, as a person would
        page.check(f'input[name="audience_ids"][value="{audience_id}"]')
    page.click("form.picker-form button[type=submit]")
    page.wait_for_selector("[data-chart]")
    chosen = parse_qs(urlsplit(page.url).query)["audience_ids"]  # in the form's order
    assert sorted(chosen) == sorted(map(str, ids))
    report = api_json(page, service, "audience-overlap?audience_ids=" + ",".join(chosen))
    assert text(page, '[data-field="overlap.size"]') == number(report["overlap"]["size"])
    assert text(page, '[data-field="union_size"]') == number(report["union_size"])
    assert text(page, '.tile [data-field="jaccard"]') == percent(report["jaccard"])
    assert texts(page, '#overlap-audiences [data-field="exclusive_size"]') == [
        number(a["exclusive_size"]) for a in report["audiences"]
    ]
    assert texts(page, '#overlap-regions [data-field="size"]') == [
        number(r["size"]) for r in report["regions"]
    ]
    for pair in report["pairs"]:
        cells = f'#jaccard td[data-pair="{",".join(pair["audience_ids"])}"]'
        assert texts(page, cells) == [percent(pair["jaccard"])] * 2  # (i, j) and (j, i)
    kind = "venn" if count <= 3 else "upset"
    assert page.locator(f'[data-chart="{kind}"] svg').count() == 1
    if kind == "venn":
        assert page.locator("svg.venn circle.set").count() == count
    page.context.close()


def test_a_minimum_count_hides_small_counts_and_the_chart(
    browser: Browser, service: Service
) -> None:
    page = signed_in(browser, service)
    ids = [str(i) for i in service.seeded.with_members()[:3]]
    full = api_json(page, service, "audience-overlap?audience_ids=" + ",".join(ids))
    minimum = min(r["size"] for r in full["regions"] if r["size"]) + 1
    page.goto(service.url("/audience-overlap"))
    for audience_id in ids:
        page.check(f'input[name="audience_ids"][value="{audience_id}"]')
    page.fill("#min-count", str(minimum))
    page.click("form.picker-form button[type=submit]")
    page.wait_for_selector("#chart-suppressed")
    chosen = parse_qs(urlsplit(page.url).query)["audience_ids"]  # in the form's order
    query = "audience-overlap?audience_ids=" + ",".join(chosen) + f"&min_count={minimum}"
    report = api_json(page, service, query)
    assert report["suppressed"] is True
    assert texts(page, '#overlap-regions [data-field="size"]') == [
        number(r["size"]) for r in report["regions"]
    ]
    assert page.locator("[data-chart]").count() == 0
    assert page.input_value("#min-count") == str(minimum)
    page.screenshot(path=str(SCREENSHOTS / "audience-overlap-min-count-light.png"), full_page=True)
    page.context.close()


# --- keyboard, focus, colour, scripts ------------------------------------------------------


def test_nav_links_are_reachable_by_tab_with_a_visible_focus_ring(
    browser: Browser, service: Service
) -> None:
    page = signed_in(browser, service)
    labels = texts(page, "nav.tabs a")
    reached: list[str] = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                 return {nav: !!e.closest('nav.tabs'), text: e.textContent.trim(),
                         style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"""
        )
        if focused["nav"]:
            assert focused["style"] != "none" and focused["width"] >= 2, focused
            reached.append(focused["text"])
        if len(reached) == len(labels):
            break
    assert reached == labels
    page.keyboard.press("Enter")  # on the last tab
    page.wait_for_url(re.compile(r".*/audience-overlap$"))
    page.context.close()


def test_colour_is_never_the_only_signal(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    for suffix in ("", "/sync-health", "/activation-coverage"):
        page.goto(service.url(suffix))
        for badge in page.locator(".badge").all():
            label = badge.evaluate("e => e.textContent.trim()")
            assert re.search(r"[A-Za-z]", label), f"badge without words on {suffix}: {label!r}"
        for cell in page.locator("td.cell").all():
            assert cell.evaluate("e => e.textContent.trim()") != ""
    page.context.close()


def test_table_sorting_and_filtering_with_javascript(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    page.goto(service.url("/sync-health"))
    page.click("#sync-table th:has-text('Runs') button")
    runs = [
        int(v)
        for v in page.locator('#sync-table [data-field="total_runs"]').evaluate_all(
            "cells => cells.map(c => c.dataset.value)"
        )
    ]
    assert runs == sorted(runs)
    page.fill("#q", "braze")
    assert page.locator("#sync-table tbody tr:visible").count() == 2
    page.context.close()


def test_pages_work_without_javascript(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service, java_script_enabled=False)
    for name, suffix in service.pages().items():
        page.goto(service.url(suffix))
        assert page.locator("main h1").count() == 1, name
    page.goto(service.url("/sync-health?state=failing"))
    assert page.locator("#sync-table tbody tr").count() == 2
    page.goto(service.url(service.pages()["audience-overlap-venn"]))
    assert page.locator("svg.venn circle.set").count() == 3
    page.context.close()


def test_a_bad_parameter_is_a_friendly_page_with_its_status(
    browser: Browser, service: Service
) -> None:
    page = signed_in(browser, service)
    response = page.goto(service.url("/audience-trends?days=400"))
    assert response is not None and response.status == 400
    assert "from 1 to 365" in text(page, "[data-error]")
    page.context.close()


def test_signing_out_ends_the_session(browser: Browser, service: Service) -> None:
    page = signed_in(browser, service)
    page.click("text=Sign out")
    page.wait_for_url(f"{service.base}/login")
    page.goto(service.url())
    assert page.url.startswith(f"{service.base}/login")
    page.context.close()
