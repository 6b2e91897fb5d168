"""The dashboard's sync-observability pages over HTTP (no browser), on both databases: the
health scores on the sync table, the sync detail page, the SLA page and audience velocity
show the numbers of their JSON twins (contract 8), and refuse what the API refuses."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from insights.app import create_app
from tests.support.api import Api, make_settings
from tests.support.dashboard import Seeded, bearer, fields, page, seed_workspace
from tests.support.databases import Database

SCORE_PARTS = ("success", "error_trend", "latency", "freshness")


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    """The app with its report cache off: these tests compare a page with its JSON twin at
    one moment, and a cached JSON answer may be up to INSIGHTS_REPORT_CACHE_SECONDS behind
    the clock (scores move with it), while the page computes afresh."""
    with TestClient(create_app(make_settings(db, report_cache_seconds=0))) as test_client:
        yield test_client


@pytest.fixture
def seeded(db: Database, api: Api) -> Seeded:
    with db.session() as session, session.begin():
        return seed_workspace(session, api.workspace_id)


def html_of(client: TestClient, api: Api, suffix: str, status: int = 200) -> str:
    response = client.get(page(api, suffix), headers=bearer(api.key))
    assert response.status_code == status, (suffix, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def same_moment(
    client: TestClient, api: Api, suffix: str, insight: str
) -> tuple[str, dict[str, Any]]:
    """A page and its JSON twin at one moment: scores move with the clock (freshness), so
    the page is read between two equal JSON answers (again if a second ticked over)."""
    for _ in range(5):
        before = json_of(api, insight)
        html = html_of(client, api, suffix)
        if json_of(api, insight) == before:
            return html, before
    raise AssertionError(f"{insight} changed on every read")


def json_of(api: Api, insight: str) -> dict[str, Any]:
    response = api.get(f"/insights/{insight}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def shown(value: object) -> str:
    """A JSON value as a page's data-value carries it (null: empty)."""
    return "" if value is None else str(value)


def twins(html: str) -> list[str]:
    """The API calls a page names as its JSON twin."""
    return [url.replace("&amp;", "&") for url in re.findall(r'href="([^"]+)" data-json-twin', html)]


def insights_path(api: Api, insight: str) -> str:
    return f"/api/v1/workspaces/{api.workspace_id}/insights/{insight}"


# --- access and refusals -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/sync-sla", f"/syncs/{uuid.UUID(int=5)}"])
def test_new_pages_without_credentials_redirect_to_login(
    client: TestClient, api: Api, suffix: str
) -> None:
    response = client.get(page(api, suffix), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_sla_and_scores_render_for_an_empty_workspace(client: TestClient, api: Api) -> None:
    html = html_of(client, api, "/sync-sla")
    assert 'id="no-sla"' in html
    assert fields(html)["syncs_with_sla"] == ["0"]
    counts = fields(html_of(client, api, "/sync-health"))
    assert all(counts[f"health_statuses.{s}"] == ["0"] for s in ("healthy", "no_data", "paused"))


@pytest.mark.parametrize(
    ("suffix", "status", "words"),
    [
        ("/sync-sla?days=0", 400, "from 1 to 365"),
        ("/sync-sla?days=366", 400, "from 1 to 365"),
        ("/syncs/not-a-uuid", 400, "not a valid UUID"),
        (f"/syncs/{uuid.UUID(int=9)}", 404, "does not exist"),
        (f"/syncs/{uuid.UUID(int=9)}?days=abc", 400, "from 1 to 365"),
        ("/sync-health?band=nonsense&days=0", 400, "from 1 to 365"),
    ],
)
def test_refused_parameters_render_the_page_with_the_api_status(
    client: TestClient, api: Api, suffix: str, status: int, words: str
) -> None:
    html = html_of(client, api, suffix, status)
    assert words in html
    assert "data-error" in html


def test_another_workspace_sync_is_a_404_not_its_data(
    client: TestClient, api: Api, other_api: Api, db: Database
) -> None:
    with db.session() as session, session.begin():
        theirs = seed_workspace(session, other_api.workspace_id)
    sync_id = theirs.syncs["Accounts to Salesforce"]
    html = html_of(client, api, f"/syncs/{sync_id}", 404)
    assert "Accounts to Salesforce" not in html


# --- sync health: the score column ---------------------------------------------------------


def test_sync_table_scores_and_band_counts_are_the_api_scores(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    html, report = same_moment(client, api, "/sync-health?days=7", "sync-health?days=7")
    found = fields(html)
    rows = report["syncs"]
    assert found["health_score"] == [shown(row["health_score"]) for row in rows]
    assert found["health_status"] == [row["health_status"] for row in rows]
    for status, count in report["health_statuses"].items():
        assert found[f"health_statuses.{status}"] == [str(count)], status
    # The seeded workspace has a sync in every band, and each row links to its detail page.
    assert {row["health_status"] for row in rows} == set(report["health_statuses"])
    links = re.findall(r'href="/workspaces/[^/]+/syncs/([^"?]+)" data-field="sync_name"', html)
    assert links == [row["sync_id"] for row in rows]


def test_score_badges_carry_the_number_and_the_word(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    html, report = same_moment(client, api, "/sync-health?days=7", "sync-health?days=7")
    words = {"healthy": "Healthy", "warning": "Warning", "degraded": "Degraded"}
    words |= {"critical": "Critical", "no_data": "No data", "paused": "Paused"}
    for row in report["syncs"]:
        status, score = row["health_status"], row["health_score"]
        badge = re.search(
            rf'<tr data-sync-id="{row["sync_id"]}".*?<span class="score score-{status}"'
            r"(.*?)</td>",
            html,
            re.S,
        )
        assert badge is not None, row["sync_name"]
        text = re.sub(r"<[^>]+>", "", badge.group(1))
        assert words[status] in text
        assert (str(score) if score is not None else "\u2014") in text


@pytest.mark.parametrize("band", ["healthy", "warning", "degraded", "critical", "paused"])
def test_the_band_filter_keeps_the_syncs_of_that_band(
    client: TestClient, api: Api, seeded: Seeded, band: str
) -> None:
    html = html_of(client, api, f"/sync-health?band={band}")
    expected = [
        row["sync_id"]
        for row in json_of(api, "sync-health?days=7")["syncs"]
        if row["health_status"] == band
    ]
    assert expected
    assert re.findall(r'<tr data-sync-id="([^"]+)"', html) == expected
    assert f'<option value="{band}" selected>' in html


def test_overview_failing_syncs_link_to_their_detail_pages(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    html = html_of(client, api, "")
    linked = re.findall(rf'href="/workspaces/{api.workspace_id}/syncs/([^"]+)"', html)
    assert sorted(linked) == sorted(
        str(seeded.syncs[name]) for name in ("Orders to Google Ads", "Events to Salesforce")
    )
    for sync_id in linked:
        html_of(client, api, f"/syncs/{sync_id}")


# --- the sync detail page ------------------------------------------------------------------


def detail_pair(
    client: TestClient, api: Api, sync_id: uuid.UUID, days: int = 30
) -> tuple[str, dict[str, Any]]:
    return same_moment(client, api, f"/syncs/{sync_id}?days={days}", f"syncs/{sync_id}?days={days}")


@pytest.mark.parametrize(
    "name",
    [
        "Products to Google Ads",  # degraded, schedule, no SLA
        "Invoices to Salesforce",  # SLA breached
        "Accounts to Salesforce",  # healthy, SLA met
        "High-Value Customers to Google Ads",  # an audience-sync
    ],
)
def test_sync_detail_shows_the_api_detail(
    client: TestClient, api: Api, seeded: Seeded, name: str
) -> None:
    html, detail = detail_pair(client, api, seeded.syncs[name])
    found = fields(html)
    assert found["health_score"] == [shown(detail["health_score"])]
    assert found["health_status"] == [detail["health_status"]]
    for part in SCORE_PARTS:
        assert found[f"health_components.{part}"] == [shown(detail["health_components"][part])]
    for key in ("runs", *(f"{s}_duration_seconds" for s in ("avg", "p50", "p95", "max"))):
        assert found[f"duration.{key}"] == [shown(detail["duration"][key])], key
    for key in ("rows_synced", "avg_rows_per_second", "current_rows_per_second"):
        assert found[f"throughput.{key}"] == [shown(detail["throughput"][key])], key
    assert found["throughput.change_percent"] == [shown(detail["throughput"]["change_percent"])]
    assert found["throughput.degraded"] == [str(detail["throughput"]["degraded"]).lower()]
    points = detail["duration"]["data_points"]
    assert found.get("duration.data_points.avg_duration_seconds", []) == [
        str(p["avg_duration_seconds"]) for p in points
    ]
    assert found["score_history.health_score"] == [
        shown(p["health_score"]) for p in detail["score_history"]
    ]
    runs = detail["recent_runs"]
    assert re.findall(r'<tr data-run-id="([^"]+)"', html) == [run["id"] for run in runs]
    assert found["duration_seconds"] == [shown(run["duration_seconds"]) for run in runs]
    kind = {"sync": "Model sync", "audience_sync": "Audience-sync"}[detail["sync_kind"]]
    assert kind in html
    assert twins(html) == [insights_path(api, f"syncs/{detail['sync_id']}?days=30")]


def test_sync_detail_sla_figures_are_the_api_sla(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    for name, state in (("Invoices to Salesforce", "breached"), ("Accounts to Salesforce", "met")):
        html, detail = detail_pair(client, api, seeded.syncs[name])
        sla = detail["sla"]
        assert sla["state"] == state
        found = fields(html)
        assert found["sla.state"] == [state]
        for key in (
            "sla_freshness_minutes",
            "freshness_compliance_percent",
            "freshness_breaches",
            "stale_since",
            "sla_duration_seconds",
            "duration_runs",
            "duration_breaches",
            "duration_compliance_percent",
        ):
            assert found[f"sla.{key}"] == [shown(sla[key])], (name, key)
    html, detail = detail_pair(client, api, seeded.syncs["Products to Google Ads"])
    assert detail["sla"] is None and 'id="no-sla"' in html


def test_sync_detail_explains_each_part_from_the_inputs(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    html, detail = detail_pair(client, api, seeded.syncs["Products to Google Ads"])
    inputs = detail["health_inputs"]
    failed = inputs["finished_runs_7d"] - inputs["completed_runs_7d"]
    sentences = dict(re.findall(r'data-sentence="([a-z_]+)">([^<]*)<', html))
    assert sentences["success"] == (
        f"{failed} of {inputs['finished_runs_7d']} finished runs failed in the last 7 days."
    )
    assert sentences["error_trend"] == (
        f"{inputs['failed_new']} failures in the last 3.5 days against "
        f"{inputs['failed_old']} in the 3.5 days before."
    )
    ratio = inputs["latest_duration_seconds"] / inputs["mean_duration_seconds"]
    assert f", {ratio:.1f}\u00d7 the usual" in sentences["latency"]
    assert inputs["expected_interval_seconds"] == 4 * 3600
    freshness = re.fullmatch(
        r"Last success (\d+) h (\d+) min ago; expected every 4 h \(schedule 0 \*/4 \* \* \*\)\.",
        sentences["freshness"],
    )
    assert freshness is not None, sentences["freshness"]
    minutes = int(freshness.group(1)) * 60 + int(freshness.group(2))
    assert abs(minutes - inputs["seconds_since_last_success"] // 60) <= 1  # page, then API


def test_a_paused_sync_and_one_that_never_ran_have_no_score_and_say_why(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    html, detail = detail_pair(client, api, seeded.syncs["Leads to Braze"])
    assert detail["health_status"] == "paused"
    assert fields(html)["unscored"] == ["paused"]
    assert "Paused syncs are not scored." in html
    html, detail = detail_pair(client, api, seeded.syncs["Scores to Braze"])
    assert detail["health_status"] == "no_data" and detail["recent_runs"] == []
    assert "nothing to score" in html and "This sync has never run." in html
    assert 'id="no-score-history"' in html


def test_the_window_narrows_the_charts_and_runs_but_not_the_score(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    sync_id = seeded.syncs["Accounts to Salesforce"]
    html, detail = detail_pair(client, api, sync_id, days=3)
    found = fields(html)
    assert len(detail["score_history"]) in (3, 4)  # dates touched by the last 72 hours
    assert len(found["score_history.health_score"]) == len(detail["score_history"])
    assert found["duration.runs"] == [str(detail["duration"]["runs"])]
    assert found["health_score"] == [shown(detail["health_score"])]
    assert 'value="3"' in html


# --- SLA compliance ------------------------------------------------------------------------


def test_sla_page_is_the_sla_report(client: TestClient, api: Api, seeded: Seeded) -> None:
    html = html_of(client, api, "/sync-sla?days=30")
    report = json_of(api, "sync-sla?days=30")
    found = fields(html)
    for name in ("syncs_with_sla", "syncs_met", "syncs_breached"):
        assert found[name] == [str(report[name])]
    rows = report["syncs"]
    assert report["syncs_met"] >= 1 and report["syncs_breached"] >= 1
    assert re.findall(r'<tr data-sync-id="([^"]+)"', html) == [row["sync_id"] for row in rows]
    assert found["state"] == [row["state"] for row in rows]
    for key in (
        "sla_freshness_minutes",
        "freshness_compliance_percent",
        "freshness_breaches",
        "stale_since",
        "sla_duration_seconds",
        "duration_runs",
        "duration_breaches",
        "duration_compliance_percent",
    ):
        assert found[key] == [shown(row[key]) for row in rows], key
    assert twins(html) == [insights_path(api, "sync-sla?days=30")]


def test_sla_page_window_is_the_api_window(client: TestClient, api: Api, seeded: Seeded) -> None:
    html = html_of(client, api, "/sync-sla?days=2")
    report = json_of(api, "sync-sla?days=2")
    found = fields(html)
    assert found["duration_runs"] == [shown(row["duration_runs"]) for row in report["syncs"]]
    assert found["freshness_compliance_percent"] == [
        shown(row["freshness_compliance_percent"]) for row in report["syncs"]
    ]


# --- audience velocity on the trends page --------------------------------------------------


def test_audience_trends_show_the_velocity_report(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    html = html_of(client, api, "/audience-trends?days=30")
    velocity = json_of(api, "audience-velocity?days=30")["audiences"]
    found = fields(html)
    rows = re.findall(r'<tr data-audience-id="([^"]+)"', html)
    assert rows == [entry["audience_id"] for entry in velocity]
    for key in ("evaluations", "members_added", "members_removed", "net_change"):
        assert found[key] == [str(entry[key]) for entry in velocity], key
    assert found["change_velocity"] == [shown(entry["change_velocity"]) for entry in velocity]
    points = [p for entry in velocity for p in entry["data_points"]]
    assert points, "the seeded audiences churn"
    assert found["velocity.added"] == [str(p["added"]) for p in points]
    assert found["velocity.removed"] == [str(p["removed"]) for p in points]
    assert insights_path(api, "audience-velocity?days=30") in twins(html)


def test_velocity_follows_the_chosen_audiences(
    client: TestClient, api: Api, seeded: Seeded
) -> None:
    ids = ",".join(str(i) for i in seeded.with_members()[:2])
    html = html_of(client, api, f"/audience-trends?days=30&audience_ids={ids}")
    velocity = json_of(api, f"audience-velocity?days=30&audience_ids={ids}")["audiences"]
    assert re.findall(r'<tr data-audience-id="([^"]+)"', html) == ids.split(",")
    assert fields(html)["members_added"] == [str(e["members_added"]) for e in velocity]
