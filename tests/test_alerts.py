"""Alerts end to end (contract 9), both databases: rules over HTTP, alerts opened and
resolved by the writes that change their conditions, notifications delivered to a real
HTTP receiver, signed, retried, timed out, kept across a restart."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from insights import alerts
from insights.alerts import outbox
from insights.app import create_app
from insights.db import transaction
from insights.models import Alert, AlertNotification, SyncRun
from insights.web.state import AppState
from tests.support.api import Api, make_settings, new_workspace_api
from tests.support.cli import INSIGHTS, cli_env, run_cli
from tests.support.databases import Database
from tests.support.factories import make_sync
from tests.support.receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def hook_client(db: Database) -> Iterator[TestClient]:
    """An app whose rules may point at this machine (where the test's receiver listens)."""
    settings = make_settings(db, webhook_allow_private=True, public_url="https://insights.test")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def hook_api(db: Database, hook_client: TestClient) -> Api:
    return new_workspace_api(db, hook_client)


def _state(api: Api) -> AppState:
    state: AppState = api.client.app.state.insights  # type: ignore[attr-defined]
    return state


def deliver(api: Api, allow_private: bool = True) -> dict[str, int]:
    api.settle_alerts()
    state = _state(api)
    delivery = alerts.Delivery(state.write, "https://insights.test", allow_private)
    return asyncio.run(delivery.round())


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sync(api: Api, name: str = "Orders to Salesforce", **fields: Any) -> dict[str, Any]:
    return api.create_sync(name, **fields)


def _run(api: Api, sync_id: str, status: str, minutes_ago: int = 5, **fields: Any) -> Any:
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    body: dict[str, Any] = {"status": status, "started_at": _iso(started)}
    if status in ("completed", "failed"):
        body["completed_at"] = _iso(started + timedelta(seconds=60))
    response = api.post(f"/syncs/{sync_id}/runs", json={**body, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def _rule(api: Api, url: str, condition: str = "sync_failed", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"{condition} rule",
        "condition": condition,
        "channel": {"type": "webhook", "url": url, "secret": "s3cret"},
        **fields,
    }
    response = api.post("/alert-rules", json=body)
    assert response.status_code == 201, response.text
    rule: dict[str, Any] = response.json()
    api.settle_alerts()
    return rule


def _alerts(api: Api, **params: str) -> list[dict[str, Any]]:
    api.settle_alerts()
    response = api.get("/alerts", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def _notifications(db: Database, api: Api | None = None) -> list[AlertNotification]:
    if api is not None:
        api.settle_alerts()
    with db.session() as session:
        return list(
            session.scalars(select(AlertNotification).order_by(AlertNotification.created_at))
        )


def hmac_sha256(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 written out from RFC 2104 (not the `hmac` module the service uses)."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + message).digest()
    return hashlib.sha256(bytes(b ^ 0x5C for b in key) + inner).hexdigest()


def test_a_failing_sync_fires_once_and_resolves_once(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    sync = _sync(hook_api)
    rule = _rule(hook_api, receiver.url)
    failed = _run(hook_api, sync["id"], "failed", minutes_ago=10, error="Invalid credentials")
    firing = _alerts(hook_api, state="firing")
    assert len(firing) == 1
    alert = firing[0]
    assert alert["rule_id"] == rule["id"] and alert["rule_name"] == "sync_failed rule"
    assert (alert["subject_type"], alert["subject_id"]) == ("sync", sync["id"])
    assert alert["subject_name"] == "Orders to Salesforce"
    assert alert["details"] == {
        "run_id": failed["id"],
        "error": "Invalid credentials",
        "started_at": failed["started_at"],
    }
    _run(hook_api, sync["id"], "failed", minutes_ago=8)  # still failing: nothing new
    assert len(_alerts(hook_api)) == 1 and len(_notifications(db, hook_api)) == 1
    _run(hook_api, sync["id"], "running", minutes_ago=1)  # not finished: no change
    assert len(_alerts(hook_api, state="firing")) == 1
    _run(hook_api, sync["id"], "completed", minutes_ago=6)  # recovered
    resolved = _alerts(hook_api, state="resolved")
    assert [one["id"] for one in resolved] == [alert["id"]]
    assert resolved[0]["resolved_at"] is not None
    assert deliver(hook_api) == {"delivered": 2, "retried": 0, "failed": 0}
    got = receiver.wait_for(2)
    assert [one.json()["event"] for one in got] == ["alert.firing", "alert.resolved"]
    for one in got:
        body = one.json()
        assert body["workspace_id"] == str(hook_api.workspace_id)
        assert body["alert"]["id"] == alert["id"]
        assert one.headers["X-Insights-Delivery"] == body["id"]
        timestamp = one.headers["X-Insights-Timestamp"]
        assert abs(int(timestamp) - time.time()) < 60
        expected = hmac_sha256(b"s3cret", timestamp.encode() + b"." + one.body)
        assert one.headers["X-Insights-Signature"] == f"sha256={expected}"
    deliveries = hook_api.get(f"/alerts/{alert['id']}/deliveries").json()
    assert [(d["event"], d["status"], d["attempts"]) for d in deliveries] == [
        ("alert.firing", "delivered", 1),
        ("alert.resolved", "delivered", 1),
    ]
    assert all(d["last_status_code"] == 200 and d["next_attempt_at"] is None for d in deliveries)
    assert deliver(hook_api) == {"delivered": 0, "retried": 0, "failed": 0}  # sent once


def test_a_receiver_that_fails_at_first_gets_it_on_a_later_attempt(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    sync = _sync(hook_api)
    _rule(hook_api, receiver.url)
    _run(hook_api, sync["id"], "failed")
    alert_id = _alerts(hook_api)[0]["id"]
    assert deliver(hook_api)["retried"] == 1
    [first] = hook_api.get(f"/alerts/{alert_id}/deliveries").json()
    assert (first["status"], first["attempts"], first["last_status_code"]) == ("pending", 1, 500)
    assert first["last_error"] == "The receiver answered 500."
    assert deliver(hook_api)["delivered"] == 0  # not due yet: 1 s after the first failure
    time.sleep(1.1)
    assert deliver(hook_api)["retried"] == 1  # 503; next in 2 s
    time.sleep(2.1)
    assert deliver(hook_api)["delivered"] == 1
    [last] = hook_api.get(f"/alerts/{alert_id}/deliveries").json()
    assert (last["status"], last["attempts"], last["last_status_code"]) == ("delivered", 3, 200)
    ids = {one.headers["X-Insights-Delivery"] for one in receiver.wait_for(3)}
    assert ids == {last["id"]}  # the same ID on every attempt, for receivers to drop repeats


def test_backoff_doubles_to_ten_minutes_and_the_tenth_failure_is_final(
    db: Database, workspace_id: uuid.UUID
) -> None:
    assert [outbox.backoff(n).total_seconds() for n in range(1, 12)] == [
        1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600,
    ]  # fmt: skip
    with db.session() as session, session.begin():
        sync = make_sync(session, workspace_id)
        alert = Alert(
            workspace_id=workspace_id,
            rule_id=uuid.uuid4(),
            rule_name="r",
            condition="sync_failed",
            subject_type="sync",
            subject_id=sync.id,
            subject_name=sync.name,
            details={},
        )
        session.add(alert)
        session.flush()
        queued = AlertNotification(
            workspace_id=workspace_id,
            alert_id=alert.id,
            event="alert.firing",
            channel_type="webhook",
            channel_url="http://127.0.0.1:9/",
            body="{}",
        )
        session.add(queued)
    outcomes = []
    moment = datetime.now(UTC)
    factory = db.write
    for _ in range(10):
        with transaction(factory) as session:
            [claimed] = outbox.claim(session, 10, now=moment)
        with transaction(factory) as session:
            outcomes.append(outbox.finish(session, claimed, 502, "bad gateway", now=moment))
        moment += timedelta(minutes=11)
    assert outcomes == ["retried"] * 9 + ["failed"]
    with transaction(factory) as session:
        assert outbox.claim(session, 10, now=moment + timedelta(days=1)) == []
        row = session.get(AlertNotification, (workspace_id, queued.id))
        assert row is not None and (row.status, row.attempts) == ("failed", 10)


def test_a_receiver_that_never_answers_times_out_after_five_seconds(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    receiver.statuses = [0]
    receiver.stall_seconds = 10
    sync = _sync(hook_api)
    _rule(hook_api, receiver.url)
    _run(hook_api, sync["id"], "failed")
    hook_api.settle_alerts()
    started = time.monotonic()
    assert deliver(hook_api)["retried"] == 1
    assert 4.5 < time.monotonic() - started < 8.5  # cut at 5 s, not when the receiver gives up
    [delivery] = hook_api.get(f"/alerts/{_alerts(hook_api)[0]['id']}/deliveries").json()
    assert delivery["last_error"] == "No answer within 5 seconds."
    assert delivery["last_status_code"] is None and delivery["status"] == "pending"


def test_queued_and_in_flight_notifications_survive_a_restart(
    db: Database, receiver: Receiver
) -> None:
    settings = make_settings(db, webhook_allow_private=True)
    with TestClient(create_app(settings)) as first:  # no worker: the notifications queue up
        api = new_workspace_api(db, first)
        one, two = _sync(api, "One"), _sync(api, "Two")
        _rule(api, receiver.url)
        _run(api, one["id"], "failed")
        _run(api, two["id"], "failed")
        api.settle_alerts()
        # One of them was being sent when the process stopped: claimed, never finished.
        with transaction(_state(api).write) as session:
            [in_flight] = outbox.claim(session, 1)
    assert len(receiver.received) == 0
    with transaction(db.write) as session:  # the lease of the dead process ends
        session.execute(
            update(AlertNotification)
            .where(AlertNotification.id == in_flight.id)
            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    restarted = make_settings(db, webhook_allow_private=True, alert_worker=True)
    with TestClient(create_app(restarted)):
        got = receiver.wait_for(2, timeout=15)
    assert sorted(r.json()["alert"]["subject_name"] for r in got) == ["One", "Two"]
    assert {n.status for n in _notifications(db)} == {"delivered"}


def test_disabling_or_deleting_a_rule_resolves_its_alerts_without_notifying(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    sync = _sync(hook_api)
    rule = _rule(hook_api, receiver.url)
    _run(hook_api, sync["id"], "failed")
    assert len(_alerts(hook_api, state="firing")) == 1
    response = hook_api.put(f"/alert-rules/{rule['id']}", json={"enabled": False})
    assert response.status_code == 200 and response.json()["enabled"] is False
    assert _alerts(hook_api, state="firing") == []
    _run(hook_api, sync["id"], "failed", minutes_ago=2)  # a disabled rule does not watch
    assert _alerts(hook_api, state="firing") == []
    assert len(_notifications(db, hook_api)) == 1  # the firing one only
    hook_api.put(f"/alert-rules/{rule['id']}", json={"enabled": True})  # fires again at once
    firing = _alerts(hook_api, state="firing")
    assert len(firing) == 1 and len(_notifications(db, hook_api)) == 2
    assert hook_api.delete(f"/alert-rules/{rule['id']}").status_code == 204
    assert _alerts(hook_api, state="firing") == []
    kept = _alerts(hook_api, rule_id=rule["id"])
    assert len(kept) == 2 and {a["rule_name"] for a in kept} == {"sync_failed rule"}
    assert len(_notifications(db, hook_api)) == 2
    assert hook_api.get(f"/alert-rules/{rule['id']}").status_code == 404


def test_a_paused_sync_resolves_its_alert_and_the_pass_one_deleted(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    paused, deleted = _sync(hook_api, "Paused"), _sync(hook_api, "Deleted")
    _rule(hook_api, receiver.url)
    _run(hook_api, paused["id"], "failed")
    _run(hook_api, deleted["id"], "failed")
    assert len(_alerts(hook_api, state="firing")) == 2
    hook_api.put(f"/syncs/{paused['id']}", json={"status": "paused"})
    assert [a["subject_name"] for a in _alerts(hook_api, state="firing")] == ["Deleted"]
    assert hook_api.delete(f"/syncs/{deleted['id']}").status_code == 204
    alerts.evaluate_all(_state(hook_api).write)  # the periodic pass notices what is gone
    assert _alerts(hook_api, state="firing") == []
    assert len(_alerts(hook_api, state="resolved")) == 2


def test_each_condition_fires_on_what_it_watches(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    flaky = _sync(hook_api, "Flaky")
    late = _sync(hook_api, "Late", sla_freshness_minutes=60)
    slower = _sync(hook_api, "Slower")
    audience = hook_api.create("audiences", name="Churners")
    for hours in range(1, 11):
        _run(hook_api, flaky["id"], "failed", minutes_ago=60 * hours)
    last = _run(hook_api, late["id"], "completed", minutes_ago=180)
    for minutes, rows in ((300, 6000), (240, 6000), (180, 600)):  # 100, 100, then 10 rows/s
        _run(hook_api, slower["id"], "completed", minutes_ago=minutes, rows_created=rows)
    for size, minutes in ((100, 30), (119, 20), (150, 10)):  # +19%: no; +26.1%: yes
        evaluated = _iso(now - timedelta(minutes=minutes))
        body = {"size": size, "evaluated_at": evaluated}
        response = hook_api.post(f"/audiences/{audience['id']}/evaluations", json=body)
        assert response.status_code == 201, response.text
    # Made last, each rule is evaluated over every subject it watches as it is saved.
    _rule(hook_api, receiver.url, "health_below", threshold=50, sync_ids=[flaky["id"]])
    _rule(hook_api, receiver.url, "sla_breached")
    _rule(hook_api, receiver.url, "throughput_degraded")
    _rule(hook_api, receiver.url, "audience_size_change", threshold=20)
    firing = {(a["condition"], a["subject_name"]): a for a in _alerts(hook_api, state="firing")}
    assert set(firing) == {
        ("health_below", "Flaky"),
        ("sla_breached", "Late"),
        ("throughput_degraded", "Slower"),
        ("audience_size_change", "Churners"),
    }
    health = firing[("health_below", "Flaky")]["details"]
    assert health["health_score"] < 50 and health["threshold"] == 50
    assert health["health_status"] == "critical"
    sla = firing[("sla_breached", "Late")]["details"]
    assert sla["sla_freshness_minutes"] == 60
    completed = datetime.fromisoformat(last["completed_at"])
    assert sla["stale_since"] == _iso(completed + timedelta(minutes=60))
    assert firing[("throughput_degraded", "Slower")]["details"] == {
        "current_rows_per_second": 10.0,
        "baseline_rows_per_second": 100.0,
        "change_percent": -90.0,
        "runs": 3,
    }
    assert firing[("audience_size_change", "Churners")]["details"] == {
        "previous_size": 119,
        "size": 150,
        "change_percent": 26.05,
        "threshold": 20.0,
    }


def test_from_an_empty_audience_any_size_counts_as_a_change(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    audience = hook_api.create("audiences", name="New")
    _rule(hook_api, receiver.url, "audience_size_change", threshold=1000)
    now = datetime.now(UTC).replace(microsecond=0)
    for size, minutes in ((0, 20), (1, 10)):
        body = {"size": size, "evaluated_at": _iso(now - timedelta(minutes=minutes))}
        hook_api.post(f"/audiences/{audience['id']}/evaluations", json=body)
    [alert] = _alerts(hook_api, state="firing")
    assert alert["details"]["previous_size"] == 0 and alert["details"]["size"] == 1


def test_slack_gets_one_line_with_a_link(db: Database, hook_api: Api, receiver: Receiver) -> None:
    sync = _sync(hook_api)
    body = {
        "name": "Failures to #data",
        "condition": "sync_failed",
        "channel": {"type": "slack", "url": receiver.url},
    }
    assert hook_api.post("/alert-rules", json=body).status_code == 201
    _run(hook_api, sync["id"], "failed", error="Quota exceeded")
    deliver(hook_api)
    [got] = receiver.wait_for(1)
    text = got.json()["text"]
    assert list(got.json()) == ["text"] and "\n" not in text
    assert text.startswith("Firing: Failures to #data (sync_failed) on sync Orders to Salesforce")
    assert "error Quota exceeded" in text
    assert text.endswith(f"https://insights.test/workspaces/{hook_api.workspace_id}/alerts")
    assert "X-Insights-Signature" not in got.headers


def test_the_private_address_guard_holds_at_send_time(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    sync = _sync(hook_api)
    _rule(hook_api, receiver.url)  # saved while private addresses were allowed
    _run(hook_api, sync["id"], "failed")
    assert deliver(hook_api, allow_private=False)["retried"] == 1
    assert receiver.received == []
    [delivery] = hook_api.get(f"/alerts/{_alerts(hook_api)[0]['id']}/deliveries").json()
    assert delivery["last_error"].startswith("Not sent: Field channel.url points at 127.0.0.1")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_rules_may_not_point_inside_by_default(api: Api, url: str) -> None:
    body = {"name": "r", "condition": "sync_failed", "channel": {"type": "webhook", "url": url}}
    response = api.post("/alert-rules", json=body)
    assert response.status_code == 400
    assert "internal address" in response.json()["error"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"condition": "health_below"}, "Field threshold is required for health_below."),
        ({"condition": "health_below", "threshold": 0}, "from 1 to 100"),
        ({"condition": "health_below", "threshold": 100.5}, "from 1 to 100"),
        ({"condition": "audience_size_change", "threshold": 0}, "above 0"),
        ({"condition": "sync_failed", "threshold": 5}, "does not apply to sync_failed"),
        ({"condition": "sync_failed", "audience_ids": []}, "audience_ids does not apply"),
        ({"condition": "sync_failed", "sync_ids": [str(uuid.uuid4())]}, "not a sync of this"),
        ({"condition": "nope"}, "condition"),
        ({"condition": "sync_failed", "channel": {"type": "webhook", "url": "ftp://x"}}, "http"),
        ({"condition": "sync_failed", "channel": {"type": "email", "url": "x"}}, "channel"),
        ({"condition": "sync_failed", "colour": "red"}, "colour"),
    ],
)
def test_rule_validation(hook_api: Api, fields: dict[str, Any], message: str) -> None:
    body = {"name": "r", "channel": {"type": "webhook", "url": "http://127.0.0.1:9/"}, **fields}
    response = hook_api.post("/alert-rules", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


def test_rules_keep_their_secret_and_ids_are_idempotent(
    hook_api: Api, other_api: Api, receiver: Receiver
) -> None:
    rule_id = str(uuid.uuid4())
    body = {
        "id": rule_id,
        "name": "Hook",
        "condition": "sync_failed",
        "channel": {"type": "webhook", "url": receiver.url, "secret": "whsec-never-shown"},
    }
    created = hook_api.post("/alert-rules", json=body)
    assert created.status_code == 201
    assert created.json()["channel"] == {"type": "webhook", "url": receiver.url, "has_secret": True}
    assert "whsec-never-shown" not in created.text
    assert hook_api.post("/alert-rules", json=body).status_code == 200
    assert hook_api.post("/alert-rules", json={**body, "name": "Other"}).status_code == 409
    renamed = hook_api.put(f"/alert-rules/{rule_id}", json={"name": "Renamed"}).json()
    assert renamed["channel"]["has_secret"] is True  # untouched channel keeps its secret
    new_url = {"channel": {"type": "webhook", "url": receiver.url + "2"}}
    kept = hook_api.put(f"/alert-rules/{rule_id}", json=new_url).json()
    assert kept["channel"]["has_secret"] is True  # same type, no secret sent: kept
    cleared = {"channel": {"type": "webhook", "url": receiver.url, "secret": None}}
    assert (
        hook_api.put(f"/alert-rules/{rule_id}", json=cleared).json()["channel"]["has_secret"]
        is False
    )
    assert other_api.get(f"/alert-rules/{rule_id}").status_code == 404
    listed = hook_api.get("/alert-rules").json()
    assert [r["id"] for r in listed["data"]] == [rule_id] and listed["pagination"]["total"] == 1


def test_two_processes_evaluating_at_once_open_one_alert(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    """The failed run is written past the tracking (straight into the database), then two
    `insights alerts evaluate` processes race to notice it, once failing, once recovered."""
    sync = _sync(hook_api)
    _rule(hook_api, receiver.url)
    for round_number in range(2):
        status = "failed" if round_number % 2 == 0 else "completed"
        with db.session() as session, session.begin():
            started = datetime.now(UTC).replace(microsecond=0) - timedelta(
                minutes=10 - round_number
            )
            session.add(
                SyncRun(
                    workspace_id=hook_api.workspace_id,
                    sync_id=uuid.UUID(sync["id"]),
                    status=status,
                    started_at=started,
                    completed_at=started + timedelta(seconds=5),
                )
            )
        processes = [
            subprocess.Popen(
                [INSIGHTS, "alerts", "evaluate"],
                env=cli_env(db.url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=120) for process in processes]
        assert all(process.returncode == 0 for process in processes), outputs
        changes = [json.loads(out) for out, _ in outputs]
        expected = (
            {"opened": 1, "resolved": 0} if status == "failed" else {"opened": 0, "resolved": 1}
        )
        assert sorted(changes, key=lambda c: c["opened"] + c["resolved"]) == [
            {"opened": 0, "resolved": 0},
            expected,
        ]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
    assert [n.event for n in _notifications(db, hook_api)] == ["alert.firing", "alert.resolved"]


def test_the_cli_delivers_what_is_queued(db: Database, hook_api: Api, receiver: Receiver) -> None:
    sync = _sync(hook_api)
    _rule(hook_api, receiver.url)
    _run(hook_api, sync["id"], "failed")
    sent = run_cli(db.url, "alerts", "deliver", webhook_allow_private="true")
    assert json.loads(sent.stdout) == {"delivered": 1, "retried": 0, "failed": 0}, sent.stderr
    assert receiver.wait_for(1)[0].json()["event"] == "alert.firing"


def test_many_threads_evaluating_at_once_open_one_alert_each(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    """Eight passes released together by a barrier, each on its own connection: one alert
    per failing sync and one notification each, whichever pass got there first."""
    syncs = [_sync(hook_api, f"S{i}") for i in range(3)]
    _rule(hook_api, receiver.url)
    with db.session() as session, session.begin():
        for sync in syncs:
            started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
            session.add(
                SyncRun(
                    workspace_id=hook_api.workspace_id,
                    sync_id=uuid.UUID(sync["id"]),
                    status="failed",
                    started_at=started,
                    completed_at=started + timedelta(seconds=5),
                )
            )
    barrier = threading.Barrier(8)
    opened: list[int] = []

    def one_pass() -> None:
        barrier.wait(timeout=30)
        opened.append(alerts.evaluate_all(_state(hook_api).write).opened)

    threads = [threading.Thread(target=one_pass) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(opened) == 8 and sum(opened) == 3  # every pass ran; 3 alerts in all
    assert len(_alerts(hook_api, state="firing")) == 3 and len(_notifications(db, hook_api)) == 3


def test_a_rule_that_changes_its_condition_resolves_what_it_said_before_quietly(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    sync = _sync(hook_api)
    rule = _rule(hook_api, receiver.url)
    _run(hook_api, sync["id"], "failed")
    assert len(_alerts(hook_api, state="firing")) == 1
    changed = {"condition": "health_below", "threshold": 50}
    response = hook_api.put(f"/alert-rules/{rule['id']}", json=changed)
    assert response.status_code == 200, response.text
    [firing] = _alerts(hook_api, state="firing")  # the new condition holds too: a new alert
    [resolved] = _alerts(hook_api, state="resolved")
    assert (firing["condition"], resolved["condition"]) == ("health_below", "sync_failed")
    events = [(n.alert_id, n.event) for n in _notifications(db, hook_api)]
    assert [event for _, event in events] == ["alert.firing", "alert.firing"]  # no resolved
    assert str(events[0][0]) == resolved["id"] and str(events[1][0]) == firing["id"]


def test_a_member_upload_is_evaluated_like_any_write(
    db: Database, hook_api: Api, receiver: Receiver
) -> None:
    audience = hook_api.create("audiences", name="Uploaded")
    _rule(hook_api, receiver.url, "audience_size_change", threshold=50)
    now = datetime.now(UTC).replace(microsecond=0)
    for keys, minutes in ((["a", "b"], 20), (["a", "b", "c", "d", "e"], 10)):
        response = hook_api.put(
            f"/audiences/{audience['id']}/members",
            params={"evaluated_at": _iso(now - timedelta(minutes=minutes))},
            content="\n".join(keys).encode(),
            headers={"Content-Type": "text/plain"},
        )
        assert response.status_code == 201, response.text
    [alert] = _alerts(hook_api, state="firing")
    assert alert["details"] == {
        "previous_size": 2,
        "size": 5,
        "change_percent": 150.0,
        "threshold": 50.0,
    }
