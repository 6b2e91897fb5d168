"""What alerts opened and resolved (contract 9.2) and how their notifications went (9.3)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.alerts.outbox import alert_body
from insights.errors import NotFound
from insights.models import Alert, AlertNotification
from insights.pagination import Page
from insights.schemas.alerts import DeliveryRead


def list_page(
    session: Session,
    workspace_id: uuid.UUID,
    page: Page,
    state: str | None = None,
    rule_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The workspace's alerts, newest `opened_at` first (then by ID, for a stable order)."""
    query = select(Alert).where(Alert.workspace_id == workspace_id)
    if state is not None:
        query = query.where(Alert.state == state)
    if rule_id is not None:
        query = query.where(Alert.rule_id == rule_id)
    alerts, total = page.fetch(session, query.order_by(Alert.opened_at.desc(), Alert.id))
    return page.body([alert_body(alert) for alert in alerts], total)


def deliveries(
    session: Session, workspace_id: uuid.UUID, alert_id: uuid.UUID
) -> list[DeliveryRead]:
    """The alert's notifications, oldest first; `next_attempt_at` only while pending."""
    if session.get(Alert, (workspace_id, alert_id)) is None:
        raise NotFound(f"Alert {alert_id} does not exist.")
    rows = session.scalars(
        select(AlertNotification)
        .where(
            AlertNotification.workspace_id == workspace_id,
            AlertNotification.alert_id == alert_id,
        )
        .order_by(AlertNotification.created_at, AlertNotification.id)
    )
    return [
        DeliveryRead(
            id=row.id,
            event=row.event,
            status=row.status,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            delivered_at=row.delivered_at,
        )
        for row in rows
    ]
