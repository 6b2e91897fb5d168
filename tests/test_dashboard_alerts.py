"""The Alerts page and the firing count in every page's header, on both databases: what
they show is what the alerts API answers, and only the viewer's workspace."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.support.api import Api
from tests.support.dashboard import bearer, fields, page, sign_in

# A public address as an IP: rules need no DNS, and nothing is ever sent in these tests.
HOOK = "https://93.184.215.14/hook"


def _failing_sync(api: Api, name: str) -> dict[str, Any]:
    sync = api.create_sync(name)
    _run(api, sync["id"], "failed", error="Token expired")
    return sync


def _run(api: Api, sync_id: str, status: str, minutes_ago: int = 5, **fields: Any) -> None:
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
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
    _run(api, first["id"], "completed", minutes_ago=1)
    after = _html(client, api, "/alerts")
    assert 'id="firing-count" data-value="1"' in after
    assert 'id="resolved-table"' in after and after.count('data-status="pending"') == 3
    assert 'id="read-only-rules"' not in after  # an admin key's view: the form is there
    assert 'id="rule-name"' in after


def test_an_empty_workspace_has_a_quiet_alerts_page(client: TestClient, api: Api) -> None:
    html = _html(client, api, "/alerts")
    for empty in ('id="no-firing"', 'id="no-rules"', 'id="no-deliveries"'):
        assert empty in html
    assert 'id="firing-count"' not in html


def _attr(html: str, name: str) -> list[str]:
    return re.findall(rf'{name}="([^"]+)"', html)


def _signed_in(client: TestClient, key: str) -> None:
    response = sign_in(client, key)
    assert response.status_code == 303, response.text


def _rule_form(**fields: str) -> dict[str, str]:
    return {
        "name": "Failures",
        "condition": "sync_failed",
        "threshold": "",
        "channel_type": "webhook",
        "url": HOOK,
        "secret": "form-secret",
        **fields,
    }


def test_a_write_session_creates_disables_and_deletes_rules(client: TestClient, api: Api) -> None:
    _signed_in(client, api.new_key("write"))
    target = page(api, "/alerts/rules")
    created = client.post(target, data=_rule_form(), follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == page(api, "/alerts")
    [rule] = api.get("/alert-rules").json()["data"]
    assert (rule["name"], rule["condition"], rule["enabled"]) == ("Failures", "sync_failed", True)
    assert rule["channel"] == {"type": "webhook", "url": HOOK, "has_secret": True}
    html = client.get(page(api, "/alerts")).text
    assert 'id="rules-table"' in html and "form-secret" not in html
    toggled = client.post(
        page(api, f"/alerts/rules/{rule['id']}"), data={"action": "disable"}, follow_redirects=False
    )
    assert toggled.status_code == 303
    assert api.get(f"/alert-rules/{rule['id']}").json()["enabled"] is False
    client.post(page(api, f"/alerts/rules/{rule['id']}"), data={"action": "delete"})
    assert api.get("/alert-rules").json()["data"] == []


def test_a_refused_rule_shows_the_form_again_with_the_reason(client: TestClient, api: Api) -> None:
    _signed_in(client, api.new_key("write"))
    cases = [
        (_rule_form(condition="health_below"), "Field threshold is required for health_below."),
        (_rule_form(condition="health_below", threshold="101"), "from 1 to 100"),
        (_rule_form(url="http://127.0.0.1/hook"), "internal address"),
        (_rule_form(name=""), "name"),
    ]
    for form, message in cases:
        response = client.post(page(api, "/alerts/rules"), data=form, follow_redirects=False)
        assert response.status_code == 400, (form, response.text[:200])
        assert message in response.text
        assert "form-secret" not in response.text  # what was typed comes back, the secret not
        assert f'value="{form["url"]}"' in response.text
    assert api.get("/alert-rules").json()["pagination"]["total"] == 0


def test_a_read_session_sees_rules_but_may_not_change_them(client: TestClient, api: Api) -> None:
    rule = api.post(
        "/alert-rules",
        json={"name": "R", "condition": "sync_failed", "channel": {"type": "slack", "url": HOOK}},
    ).json()
    _signed_in(client, api.new_key("read"))
    html = client.get(page(api, "/alerts")).text
    assert 'id="read-only-rules"' in html and 'action="' + page(api, "/alerts/rules") not in html
    refused = client.post(page(api, "/alerts/rules"), data=_rule_form())
    assert refused.status_code == 403
    refused = client.post(page(api, f"/alerts/rules/{rule['id']}"), data={"action": "delete"})
    assert refused.status_code == 403
    assert api.get(f"/alert-rules/{rule['id']}").status_code == 200


def test_a_form_from_another_site_is_refused(client: TestClient, api: Api) -> None:
    _signed_in(client, api.new_key("write"))
    response = client.post(
        page(api, "/alerts/rules"), data=_rule_form(), headers={"Origin": "https://evil.test"}
    )
    assert response.status_code == 403
    assert api.get("/alert-rules").json()["pagination"]["total"] == 0
