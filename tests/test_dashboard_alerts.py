"""The Alerts page and the firing count in every page's header, on both databases: what
they show is what the alerts API answers, and only the viewer's workspace."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.support.api import Api
from tests.support.dashboard import bearer, fields, page

# A public address as an IP: rules need no DNS, and nothing is ever sent in these tests.
HOOK = "https://93.184.215.14/hook"


def _failing_sync(api: Api, name: str) -> dict[str, Any]:
    source = api.create("sources", name=f"W {name}", source_type="snowflake")
    model = api.create("models", name=f"M {name}", source_id=source["id"])
    destination = api.create("destinations", name=f"D {name}", destination_type="hubspot")
    sync = api.create("syncs", name=name, model_id=model["id"], destination_id=destination["id"])
    _run(api, sync["id"], "failed", error="Token expired")
    return sync


def _run(api: Api, sync_id: str, status: str, **fields: Any) -> None:
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    stamp = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"status": status, "started_at": stamp, "completed_at": stamp, **fields}
    assert api.post(f"/syncs/{sync_id}/runs", json=body).status_code == 201


def _html(client: TestClient, api: Api, suffix: str) -> str:
    api.settle_alerts()
    response = client.get(page(api, suffix), headers=bearer(api.key))
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_the_alerts_page_shows_what_the_api_answers(
    client: TestClient, api: Api, other_api: Api
) -> None:
    channel = {"type": "slack", "url": HOOK}
    rule = {"name": "Failures", "condition": "sync_failed", "channel": channel}
    assert api.post("/alert-rules", json=rule).status_code == 201
    disabled = {**rule, "name": "Quiet", "enabled": False}
    assert api.post("/alert-rules", json=disabled).status_code == 201
    first, second = _failing_sync(api, "Orders"), _failing_sync(api, "Leads")
    _failing_sync(other_api, "Theirs")
    html = _html(client, api, "/alerts")
    found = fields(html)
    api_firing = api.get("/alerts", params={"state": "firing"}).json()["data"]
    assert {a["id"] for a in api_firing} == set(_attr(html, "data-alert-id"))
    assert sorted(found["firing"]) == ["0", "2"]  # Failures fires twice, Quiet never
    assert found["enabled"] == ["true", "false"]  # by name: Failures, Quiet
    assert "Token expired" in html and "Theirs" not in html
    assert "error <strong>Token expired</strong>" in html
    assert f"/syncs/{first['id']}" in html and f"/syncs/{second['id']}" in html
    overview = _html(client, api, "")
    assert 'id="firing-count" data-value="2"' in overview  # the header of every page
    assert 'id="firing-count"' not in _html(client, other_api, "/sync-health")  # no rules
    _run(api, first["id"], "completed")
    after = _html(client, api, "/alerts")
    assert 'id="firing-count" data-value="1"' in after
    assert 'id="resolved-table"' in after and after.count('data-status="pending"') == 3


def test_an_empty_workspace_has_a_quiet_alerts_page(client: TestClient, api: Api) -> None:
    html = _html(client, api, "/alerts")
    for empty in ('id="no-firing"', 'id="no-rules"', 'id="no-deliveries"'):
        assert empty in html
    assert 'id="firing-count"' not in html


def _attr(html: str, name: str) -> list[str]:
    return re.findall(rf'{name}="([^"]+)"', html)
