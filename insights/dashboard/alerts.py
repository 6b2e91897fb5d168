"""The Alerts page (contract 9 on the dashboard): the rules with their state, the firing
alerts with what made them fire, recent alerts, and recent deliveries with their failures;
and the firing count every page shows in its header."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from insights.alerts import rules
from insights.alerts.outbox import alert_body
from insights.errors import BadRequest
from insights.models import Alert, AlertNotification, AlertRule
from insights.schemas.alerts import AlertRuleCreate
from insights.validation import describe_validation_error

RECENT = 20
CONDITIONS = (
    ("sync_failed", "A sync's latest finished run failed"),
    ("health_below", "A sync's health score is below the threshold (1-100)"),
    ("sla_breached", "A sync breaches its SLA"),
    ("throughput_degraded", "A sync's latest rate fell below half its 7-day baseline"),
    ("audience_size_change", "An audience's size changed by more than the threshold (%)"),
)


def firing_count(session: Session, workspace_id: uuid.UUID) -> int:
    query = select(func.count()).where(Alert.workspace_id == workspace_id, Alert.state == "firing")
    return int(session.scalar(query) or 0)


def alerts_page(session: Session, workspace_id: uuid.UUID, can_write: bool) -> dict[str, Any]:
    stored = session.scalars(
        select(AlertRule)
        .where(AlertRule.workspace_id == workspace_id)
        .order_by(AlertRule.name, AlertRule.id)
    )
    base = select(Alert).where(Alert.workspace_id == workspace_id)
    newest = (Alert.opened_at.desc(), Alert.id)
    firing = session.scalars(base.where(Alert.state == "firing").order_by(*newest)).all()
    firing_by_rule = Counter(alert.rule_id for alert in firing)
    rule_rows = [
        {
            "rule": rules.read(rule),
            "host": urlsplit(rule.channel_url).hostname or "",
            "firing": firing_by_rule[rule.id],
        }
        for rule in stored
    ]
    resolved = session.scalars(
        base.where(Alert.state == "resolved").order_by(*newest).limit(RECENT)
    ).all()
    deliveries = session.execute(
        select(AlertNotification, Alert.subject_name)
        .join(
            Alert,
            (Alert.workspace_id == AlertNotification.workspace_id)
            & (Alert.id == AlertNotification.alert_id),
        )
        .where(AlertNotification.workspace_id == workspace_id)
        .order_by(AlertNotification.created_at.desc(), AlertNotification.id)
        .limit(RECENT)
    ).all()
    return {
        "can_write": can_write,
        "rules": rule_rows,
        "firing": [alert_body(alert) for alert in firing],
        "resolved": [alert_body(alert) for alert in resolved],
        "deliveries": [{"row": row, "subject_name": name} for row, name in deliveries],
        "api_urls": [
            f"/api/v1/workspaces/{workspace_id}/alert-rules",
            f"/api/v1/workspaces/{workspace_id}/alerts?state=firing",
        ],
    }


def rule_from_form(form: dict[str, str]) -> AlertRuleCreate:
    """The rule a dashboard form describes; a 400 in the service's voice if it cannot be."""
    threshold = form.get("threshold", "").strip()
    channel: dict[str, Any] = {"type": form.get("channel_type", ""), "url": form.get("url", "")}
    secret = form.get("secret", "")
    if secret and channel["type"] == "webhook":
        channel["secret"] = secret
    values: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "condition": form.get("condition", ""),
        "threshold": threshold or None,
        "channel": channel,
    }
    try:
        return AlertRuleCreate.model_validate(values)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc.errors())) from None
