"""The dashboard over HTTP (no browser): who may see a page, error pages, the numbers."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from insights.app import create_app
from tests.support.api import Api, make_settings
from tests.support.dashboard import Seeded, bearer, fields, page, seed_workspace, sign_in
from tests.support.databases import Database

PAGES = (
    "",
    "/sync-health",
    "/sync-sla",
    "/audience-trends",
    "/activation-coverage",
    "/audience-overlap",
    "/alerts",
)


@pytest.fixture
def seeded(db: Database, api: Api) -> Seeded:
    with db.session() as session, session.begin():
        return seed_workspace(session, api.workspace_id)


# --- who may see a page --------------------------------------------------------------------


@pytest.mark.parametrize("suffix", PAGES)
def test_page_without_credentials_redirects_to_login(
    client: TestClient, api: Api, suffix: str
) -> None:
    response = client.get(page(api, suffix), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert str(api.workspace_id) not in response.text


def test_every_page_opens_with_a_bearer_key(client: TestClient, api: Api, seeded: Seeded) -> None:
    ids = ",".join(str(i) for i in seeded.with_members()[:3])
    for suffix in (*PAGES, f"/audience-overlap?audience_ids={ids}"):
        response = client.get(page(api, suffix), headers=bearer(api.key))
        assert response.status_code == 200, (suffix, response.text[:300])
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in response.headers["content-security-policy"]


def test_every_page_renders_for_an_empty_workspace(client: TestClient, api: Api) -> None:
    for suffix in PAGES:
        response = client.get(page(api, suffix), headers=bearer(api.key))
        assert response.status_code == 200, (suffix, response.text[:300])


def test_a_read_key_is_enough_and_no_workspace_header_is_needed(
    client: TestClient, api: Api
) -> None:
    response = client.get(page(api), headers=bearer(api.new_key("read")))
    assert response.status_code == 200


def test_an_unknown_bearer_key_is_a_401_page(client: TestClient, api: Api) -> None:
    response = client.get(page(api), headers=bearer("sk_live_" + "x" * 43))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "text/html" in response.headers["content-type"]


def test_another_workspace_is_a_403_page(client: TestClient, api: Api, other_api: Api) -> None:
    response = client.get(page(other_api, "/sync-health"), headers=bearer(api.key))
    assert response.status_code == 403
    assert "Not your workspace" in response.text
    sign_in(client, api.key)
    assert client.get(page(other_api), follow_redirects=False).status_code == 403


def test_a_workspace_that_does_not_exist_is_a_403_too(client: TestClient, api: Api) -> None:
    response = client.get(f"/workspaces/{uuid.uuid4()}", headers=bearer(api.key))
    assert response.status_code == 403


def test_a_malformed_workspace_id_is_a_400_page(client: TestClient, api: Api) -> None:
    response = client.get("/workspaces/not-a-uuid/sync-health", headers=bearer(api.key))
    assert response.status_code == 400
    assert "not a valid UUID" in response.text


def test_pages_count_against_the_workspace_rate_limit(db: Database, api: Api) -> None:
    with TestClient(create_app(make_settings(db, rate_limit_per_minute=1))) as client:
        assert client.get(page(api), headers=bearer(api.key)).status_code == 200
        response = client.get(page(api), headers=bearer(api.key))
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1


def test_the_service_serves_every_file_a_page_loads(client: TestClient) -> None:
    for name, kind in (
        ("dashboard.css", "text/css"),
        ("dashboard.js", "javascript"),
        ("favicon.svg", "image/svg+xml"),
    ):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        assert kind in response.headers["content-type"]


def test_the_root_leads_to_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


# --- parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "status", "words"),
    [
        ("/sync-health?days=0", 400, "from 1 to 365"),
        ("/sync-health?days=abc", 400, "from 1 to 365"),
        ("/audience-trends?days=366", 400, "from 1 to 365"),
        ("/audience-trends?audience_ids=nope", 400, "not a valid UUID"),
        (f"/audience-trends?audience_ids={uuid.UUID(int=7)}", 404, "does not exist"),
        (f"/audience-overlap?audience_ids={uuid.UUID(int=7)}", 400, "at least 2"),
        (
            f"/audience-overlap?audience_ids={uuid.UUID(int=7)},{uuid.UUID(int=8)}",
            404,
            "does not exist",
        ),
    ],
)
def test_bad_parameters_render_an_error_page_with_the_status(
    client: TestClient, api: Api, suffix: str, status: int, words: str
) -> None:
    response = client.get(page(api, suffix), headers=bearer(api.key))
    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]
    assert words in response.text
    assert "data-error" in response.text


def test_more_than_eight_audiences_is_a_400(client: TestClient, api: Api) -> None:
    ids = ",".join(str(uuid.UUID(int=i)) for i in range(1, 10))
    response = client.get(
        page(api, f"/audience-overlap?audience_ids={ids}"), headers=bearer(api.key)
    )
    assert response.status_code == 400
    assert "at most 8" in response.text


def test_overlap_of_an_audience_without_members_is_a_409_page(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    ids = [seeded.audiences["VIP"], seeded.audiences["Imported sizes"]]
    suffix = "/audience-overlap?" + "&".join(f"audience_ids={i}" for i in ids)
    response = client.get(page(api, suffix), headers=bearer(api.key))
    assert response.status_code == 409
    assert str(seeded.audiences["Imported sizes"]) in response.text


def test_overlap_without_a_selection_shows_the_picker(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    response = client.get(page(api, "/audience-overlap"), headers=bearer(api.key))
    assert response.status_code == 200
    assert response.text.count('name="audience_ids"') == len(seeded.audiences)


def test_the_picker_sends_checkboxes_as_repeated_parameters(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    ids = seeded.with_members()
    query = "&".join(f"audience_ids={i}" for i in ids)  # 5 audiences: an UpSet chart
    response = client.get(page(api, f"/audience-overlap?{query}"), headers=bearer(api.key))
    assert response.status_code == 200
    assert 'data-chart="upset"' in response.text


# --- the numbers are the API's -------------------------------------------------------------


def json_of(api: Api, insight: str) -> dict[str, Any]:
    response = api.get(f"/insights/{insight}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_overview_numbers_are_the_summary_and_sync_health(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    shown = fields(client.get(page(api), headers=bearer(api.key)).text)
    summary = json_of(api, "summary")
    for group, counts in summary.items():
        for name, value in counts.items():
            assert shown[f"{group}.{name}"][0] == str(value), (group, name)
    health = json_of(api, "sync-health?days=7")
    for name in ("active_syncs", "healthy_syncs", "failing_syncs"):
        assert shown[f"health.{name}"] == [str(health[name])]
    assert health["failing_syncs"] == 2  # Orders (failed last) and Events (running after a failure)
    assert len(shown["failed_runs"]) == health["failing_syncs"]


def test_sync_health_rows_are_the_api_rows(client: TestClient, api: Api, seeded: Seeded) -> None:
    html = client.get(page(api, "/sync-health?days=3"), headers=bearer(api.key)).text
    report = json_of(api, "sync-health?days=3")
    shown = fields(html)
    for name in ("total_syncs", "active_syncs", "healthy_syncs", "failing_syncs", "paused_syncs"):
        assert shown[name] == [str(report[name])]
    order = re.findall(r'<tr data-sync-id="([^"]+)"', html)
    assert order == [row["sync_id"] for row in report["syncs"]]
    assert shown["total_runs"] == [str(row["total_runs"]) for row in report["syncs"]]
    assert shown["total_rows_synced"] == [str(row["total_rows_synced"]) for row in report["syncs"]]


def test_sync_health_filters_by_state_and_name(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    html = client.get(page(api, "/sync-health?state=failing"), headers=bearer(api.key)).text
    assert set(re.findall(r'<tr data-sync-id="([^"]+)"', html)) == {
        str(seeded.syncs["Orders to Google Ads"]),
        str(seeded.syncs["Events to Salesforce"]),
    }
    html = client.get(page(api, "/sync-health?q=braze"), headers=bearer(api.key)).text
    assert len(re.findall(r"<tr data-sync-id=", html)) == 2


def test_trends_and_coverage_numbers_are_the_api_numbers(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    shown = fields(client.get(page(api, "/audience-trends"), headers=bearer(api.key)).text)
    trends = json_of(api, "audience-trends?days=30")["audiences"]
    assert shown["current_size"] == [str(t["current_size"]) for t in trends]
    assert shown["change_absolute"] == [str(t["change_absolute"]) for t in trends]
    shown = fields(client.get(page(api, "/activation-coverage"), headers=bearer(api.key)).text)
    coverage = json_of(api, "activation-coverage")
    for name in ("total_audiences", "activated_audiences", "unactivated_audiences"):
        assert shown[name] == [str(coverage[name])]
    assert shown["estimated_size"] == [str(a["estimated_size"]) for a in coverage["unactivated"]]


def test_overlap_numbers_are_the_api_numbers(client: TestClient, api: Api, seeded: Seeded) -> None:
    ids = ",".join(str(i) for i in seeded.with_members()[:3])
    html = client.get(page(api, f"/audience-overlap?audience_ids={ids}"), headers=bearer(api.key))
    shown = fields(html.text)
    report = json_of(api, f"audience-overlap?audience_ids={ids}")
    assert shown["overlap.size"] == [str(report["overlap"]["size"])]
    assert shown["union_size"] == [str(report["union_size"])]
    assert shown["exclusive_size"] == [str(a["exclusive_size"]) for a in report["audiences"]]
    assert 'data-chart="venn"' in html.text
    assert html.text.count('class="set set-') == 3


def _shown(value: object) -> str:
    """A JSON value as the page's data-value shows it (a suppressed null: empty)."""
    return "" if value is None else str(value)


def test_overlap_with_a_minimum_shows_the_api_suppression_and_no_chart(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    ids = seeded.with_members()[:3]
    report = json_of(api, f"audience-overlap?audience_ids={','.join(map(str, ids))}")
    # Just above the smallest region: that region and what reveals it must be hidden.
    smallest = min(r["size"] for r in report["regions"] if r["size"])
    query = "&".join(f"audience_ids={i}" for i in ids) + f"&min_count={smallest + 1}"
    html = client.get(page(api, f"/audience-overlap?{query}"), headers=bearer(api.key)).text
    suppressed = json_of(
        api, f"audience-overlap?audience_ids={','.join(map(str, ids))}&min_count={smallest + 1}"
    )
    assert suppressed["suppressed"] is True
    shown = fields(html)
    assert shown["overlap.size"] == [_shown(suppressed["overlap"]["size"])]
    assert shown["union_size"] == [_shown(suppressed["union_size"])]
    assert shown["size"][:3] == [_shown(a["size"]) for a in suppressed["audiences"]]
    assert shown["exclusive_size"] == [_shown(a["exclusive_size"]) for a in suppressed["audiences"]]
    assert str(smallest) not in re.findall(r'data-value="(\d+)"', html)
    # A chart to scale would show the hidden counts: there is none, and a note says why.
    assert 'id="chart-suppressed"' in html and "data-chart=" not in html
    assert f'value="{smallest + 1}"' in html  # the form keeps the minimum
    assert f"min_count={smallest + 1}" in html  # and so does the link to the API call


def test_an_empty_minimum_is_no_minimum_and_a_bad_one_a_400(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    query = "&".join(f"audience_ids={i}" for i in seeded.with_members()[:2])
    empty = client.get(page(api, f"/audience-overlap?{query}&min_count="), headers=bearer(api.key))
    assert empty.status_code == 200 and 'data-chart="venn"' in empty.text
    bad = client.get(page(api, f"/audience-overlap?{query}&min_count=0"), headers=bearer(api.key))
    assert bad.status_code == 400
    assert "min_count parameter must be a whole number of at least 1" in bad.text
    assert 'value="0"' in bad.text  # the form comes back with what was sent
