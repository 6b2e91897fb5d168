"""/metrics (contract 10): what each metric counts, the route template as the only path in a
label, no ID in any label, the optional token, the firing alerts counted in the database."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from insights import metrics
from insights.app import create_app
from insights.models import Alert
from tests.support.api import Api, app_state, make_settings, new_workspace_api
from tests.support.databases import Database
from tests.support.factories import make_workspace
from tests.support.metrics import ID, Sample, parse, total, value
from tests.support.receiver import running_receiver

DASHBOARD = Path(__file__).parent.parent / "docs" / "grafana-dashboard.json"
WS = "/api/v1/workspaces/{workspace_id}"
REQUESTS = "insights_http_requests_total"
TOKEN = "scrape-me-" + "x" * 20
TEXT = "text/plain"


def scrape(client: httpx2.Client, **headers: str) -> list[Sample]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def change(before: list[Sample], after: list[Sample]) -> Callable[..., float]:
    """How far a sample (by name and exact labels) moved between two scrapes."""

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    return moved


def _audience_with_members(api: Api, name: str, keys: list[str]) -> str:
    audience = api.create("audiences", name=name)
    response = api.post(f"/audiences/{audience['id']}/evaluations", json={"members": keys})
    assert response.status_code == 201, response.text
    return str(audience["id"])


# Requests --------------------------------------------------------------------------------


def test_requests_move_the_counters_by_exactly_the_requests_made(api: Api) -> None:
    before = scrape(api.client)
    for _ in range(3):
        assert api.get("/insights/summary").status_code == 200
    assert api.get("/insights/summary", key="ins_wrong").status_code == 401
    assert api.client.get(f"/nothing/{api.workspace_id}").status_code == 404
    assert api.client.post("/healthz").status_code == 405
    assert api.client.request("PROPFIND", "/healthz").status_code == 405
    after = scrape(api.client)
    moved = change(before, after)
    summary = f"{WS}/insights/summary"
    assert moved(REQUESTS, method="GET", route=summary, status="200") == 3
    assert moved(REQUESTS, method="GET", route=summary, status="401") == 1
    assert moved(REQUESTS, method="GET", route=metrics.UNMATCHED, status="404") == 1
    assert moved(REQUESTS, method="POST", route="/healthz", status="405") == 1
    assert moved(REQUESTS, method="OTHER", route="/healthz", status="405") == 1
    assert moved(REQUESTS, method="GET", route="/metrics", status="200") == 1  # the first scrape
    assert total(after, REQUESTS) - total(before, REQUESTS) == 8
    durations = "insights_http_request_duration_seconds_count"
    assert moved(durations, method="GET", route=summary) == 4
    assert (
        moved(
            "insights_http_request_duration_seconds_bucket", method="GET", route=summary, le="+Inf"
        )
        == 4
    )


def test_a_route_label_is_always_a_template_or_unmatched(api: Api) -> None:
    audience = api.create("audiences", name="Buyers")
    assert api.get(f"/audiences/{audience['id']}").status_code == 200
    assert api.get(f"/audiences/{uuid.uuid4()}").status_code == 404
    assert api.client.get("/static/dashboard.css").status_code == 200
    routes = {s.labels["route"] for s in scrape(api.client) if s.name == REQUESTS}
    assert {f"{WS}/audiences/{{resource_id}}", "/static/{path}"} <= routes, routes
    assert all(r == metrics.UNMATCHED or r.startswith("/") for r in routes)
    assert not [r for r in routes if ID.search(r)]


def test_no_label_value_anywhere_holds_an_id(db: Database, api: Api, other_api: Api) -> None:
    """Walks routes with IDs in their paths, a firing alert and an upload, then scans the
    whole scrape: neither a UUID-like value nor any of the IDs involved appears."""
    a = _audience_with_members(api, "A", ["k1", "k2"])
    b = _audience_with_members(api, "B", ["k2", "k3"])
    c = api.create("audiences", name="C")["id"]
    ids = [str(api.workspace_id), str(other_api.workspace_id), a, b, c]
    overlap = api.get("/insights/audience-overlap", params={"audience_ids": f"{a},{b}"})
    assert overlap.status_code == 200, overlap.text
    upload = api.put(f"/audiences/{c}/members", content=b"k9\n", headers={"Content-Type": TEXT})
    assert upload.status_code == 201, upload.text
    assert api.get(f"/audiences/{b}/evaluations").status_code == 200
    assert other_api.get(f"/audiences/{a}").status_code == 404
    assert api.client.get(f"/workspaces/{api.workspace_id}/overview").status_code < 500
    with db.session() as session, session.begin():
        session.add(_alert(api.workspace_id, "sync_failed"))
    metrics.count_notification("webhook", "delivered")
    response = api.client.get("/metrics")
    assert response.status_code == 200
    for sample in parse(response.text):
        for label in sample.labels.values():
            assert not ID.search(label), (sample.name, sample.labels)
    for raw in ids:
        for form in (raw, raw.replace("-", "")):
            assert form not in response.text


# The token -------------------------------------------------------------------------------


@pytest.fixture
def guarded(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db, metrics_token=TOKEN))) as client:
        yield client


@pytest.mark.parametrize(
    "header", [None, f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN[:-1]}"]
)
def test_with_a_token_set_a_scrape_without_it_is_401(
    guarded: TestClient, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = guarded.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": "An Authorization: Bearer <metrics token> header is required."
    }


def test_with_a_token_set_a_scrape_with_it_is_200(guarded: TestClient) -> None:
    before = scrape(guarded, Authorization=f"Bearer {TOKEN}")
    assert guarded.get("/metrics").status_code == 401
    after = scrape(guarded, Authorization=f"Bearer {TOKEN}")
    moved = change(before, after)
    assert moved(REQUESTS, method="GET", route="/metrics", status="401") == 1
    assert moved(REQUESTS, method="GET", route="/metrics", status="200") == 1


def test_without_a_token_set_metrics_need_no_key(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 200


# The domain's figures ---------------------------------------------------------------------


def test_overlap_reads_miss_the_bitmap_cache_then_hit_it(api: Api, client: TestClient) -> None:
    a = _audience_with_members(api, "A", ["k1", "k2", "k3"])
    b = _audience_with_members(api, "B", ["k2", "k3", "k4"])
    caches = app_state(client).caches
    caches.clear()
    overlap = {"audience_ids": f"{a},{b}"}
    first = scrape(client)
    assert api.get("/insights/audience-overlap", params=overlap).status_code == 200
    second = scrape(client)
    app_state(client).reports.clear()  # the answer's bytes are cached too: compute it again
    assert api.get("/insights/audience-overlap", params=overlap).status_code == 200
    third = scrape(client)
    cold, warm = change(first, second), change(second, third)
    hits, misses = "insights_bitmap_cache_hits_total", "insights_bitmap_cache_misses_total"
    assert (cold(misses), cold(hits)) == (2, 0)
    assert (warm(misses), warm(hits)) == (0, 2)
    assert cold("insights_bitmap_cache_bytes") == caches.bitmaps.bytes > 0
    assert warm("insights_bitmap_cache_bytes") == 0


def test_keys_uploaded_move_by_the_keys_received(api: Api) -> None:
    audience = api.create("audiences", name="Buyers")
    upload = f"/audiences/{audience['id']}/members"
    name = "insights_member_keys_uploaded_total"
    before = scrape(api.client)
    response = api.put(
        upload,
        content=b"k1\nk2\nk3\nk4\nk5\n",
        headers={"Content-Type": TEXT},
        params={"evaluated_at": "2024-01-15T12:00:00Z"},
    )
    assert response.status_code == 201, response.text
    uploaded = scrape(api.client)
    bad = api.put(
        upload,
        content=b"k1\n" + b"x" * 300 + b"\n",
        headers={"Content-Type": TEXT},
        params={"evaluated_at": "2024-01-16T12:00:00Z"},
    )
    assert bad.status_code == 400, bad.text
    refused = scrape(api.client)
    other = api.create("audiences", name="Others")
    listed = api.post(f"/audiences/{other['id']}/evaluations", json={"members": ["a", "b", "c"]})
    assert listed.status_code == 201, listed.text
    evaluated = scrape(api.client)
    assert change(before, uploaded)(name) == 5
    assert change(uploaded, refused)(name) == 0
    assert change(refused, evaluated)(name) == 3


def _alert(workspace_id: uuid.UUID, condition: str, state: str = "firing") -> Alert:
    return Alert(
        workspace_id=workspace_id,
        rule_id=uuid.uuid4(),
        rule_name="Rule",
        condition=condition,
        subject_type="sync",
        subject_id=uuid.uuid4(),
        subject_name="Orders to Salesforce",
        state=state,
        details={},
    )


def test_firing_alerts_are_counted_from_the_alerts_table(db: Database, client: TestClient) -> None:
    with db.session() as session, session.begin():
        acme = make_workspace(session, name="Acme").id
        acme_too = make_workspace(session, name="Acme").id  # same name: adds up
        beta = make_workspace(session, name="Beta").id
        quiet = make_workspace(session, name="Quiet").id
        session.add_all(
            [
                _alert(acme, "sync_failed"),
                _alert(acme, "sync_failed"),
                _alert(acme, "health_below"),
                _alert(acme_too, "sync_failed"),
                _alert(beta, "sla_breached"),
                _alert(beta, "sla_breached", state="resolved"),
                _alert(quiet, "sync_failed", state="resolved"),
            ]
        )
    firing = {
        (s.labels["workspace"], s.labels["condition"]): s.value
        for s in scrape(client)
        if s.name == "insights_alerts_firing"
    }
    assert firing == {
        ("Acme", "sync_failed"): 3,
        ("Acme", "health_below"): 1,
        ("Beta", "sla_breached"): 1,
    }


def test_pool_in_use_counts_the_connections_held(client: TestClient) -> None:
    name, pool = "insights_db_pool_connections_in_use", {"pool": "main"}
    before = value(scrape(client), name, **pool)
    with app_state(client).engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        during = value(scrape(client), name, **pool)
    after = value(scrape(client), name, **pool)
    assert (during - before, after - before) == (1, 0)


def test_notifications_are_counted_by_channel_and_outcome() -> None:
    def notifications() -> list[Sample]:
        return parse(metrics.exposition()[0].decode())

    before = notifications()
    metrics.count_notification("webhook", "delivered")
    metrics.count_notification("slack", "retried")
    metrics.count_notification("slack", "retried")
    metrics.count_notification("slack", "failed")
    moved = change(before, notifications())
    name = "insights_alert_notifications_total"
    assert moved(name, channel="webhook", outcome="delivered") == 1
    assert moved(name, channel="slack", outcome="retried") == 2
    assert moved(name, channel="slack", outcome="failed") == 1
    with pytest.raises(ValueError, match="lost"):
        metrics.count_notification("webhook", "lost")


def test_the_apps_alert_worker_counts_each_delivery_attempt(db: Database) -> None:
    """The worker inside the app sends to a real receiver that fails once: one `retried`,
    then, after the 1 s backoff, one `delivered`."""
    name = "insights_alert_notifications_total"
    settings = make_settings(db, webhook_allow_private=True, alert_worker=True)
    with running_receiver() as receiver, TestClient(create_app(settings)) as client:
        receiver.statuses = [500]
        api = new_workspace_api(db, client)
        before = scrape(client)
        source = api.create("sources", name="W", source_type="snowflake")
        model = api.create("models", name="M", source_id=source["id"])
        destination = api.create("destinations", name="D", destination_type="salesforce")
        sync = api.create("syncs", name="S", model_id=model["id"], destination_id=destination["id"])
        channel = {"type": "webhook", "url": receiver.url}
        rule = {"name": "Failures", "condition": "sync_failed", "channel": channel}
        assert api.post("/alert-rules", json=rule).status_code == 201
        run = {"status": "failed", "started_at": "2024-01-15T12:00:00Z"}
        run["completed_at"] = "2024-01-15T12:01:00Z"
        assert api.post(f"/syncs/{sync['id']}/runs", json=run).status_code == 201
        receiver.wait_for(2, timeout=30)
        deadline = time.monotonic() + 10  # the receiver has answered; the count follows
        while time.monotonic() < deadline:
            moved = change(before, scrape(client))
            if moved(name, channel="webhook", outcome="delivered") == 1:
                break
            time.sleep(0.1)
        assert moved(name, channel="webhook", outcome="retried") == 1
        assert moved(name, channel="webhook", outcome="delivered") == 1
        assert moved(name, channel="webhook", outcome="failed") == 0


# The Grafana dashboard ---------------------------------------------------------------------


def _expressions(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, child in node.items():
            if key in ("expr", "query", "definition") and isinstance(child, str):
                yield child
            else:
                yield from _expressions(child)
    elif isinstance(node, list):
        for child in node:
            yield from _expressions(child)


def test_the_grafana_dashboard_plots_only_metrics_the_service_exports() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = list(_expressions(dashboard))
    assert len(expressions) >= 8
    used = {name for expr in expressions for name in re.findall(r"\binsights_[a-z_]+", expr)}
    assert used <= metrics.metric_names(), used - metrics.metric_names()
    # ...and every metric the service exports has a panel.
    families = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in metrics.metric_names()}
    plotted = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in used}
    assert families <= plotted, families - plotted
