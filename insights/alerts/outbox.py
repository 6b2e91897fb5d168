"""The notification outbox (contract 9.3): a row per notification, written in the
transaction that opened or resolved its alert, claimed by a sender for a lease and then
marked delivered, retried later (1, 2, 4 ... seconds, at most 10 minutes apart) or, after
the tenth attempt, failed. A sender that dies mid-send loses its lease and the row is
claimed again: at least once, never silently dropped."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from insights.models import Alert, AlertNotification, AlertRule, utcnow
from insights.schemas.alerts import AlertRead

MAX_ATTEMPTS = 10
FIRST_BACKOFF_SECONDS = 1
MAX_BACKOFF_SECONDS = 600
# Longer than the 5-second send timeout with room to spare: a live sender always finishes
# (or gives up) well before another may take its notification over.
LEASE = timedelta(seconds=60)


def alert_body(alert: Alert) -> dict[str, object]:
    """The alert as 9.2 shows it (and as notifications carry it)."""
    return AlertRead.model_validate(alert, from_attributes=True).model_dump(mode="json")


def enqueue(session: Session, rule: AlertRule, alert: Alert, event: str) -> AlertNotification:
    """Queues the notification of this change of `alert`, to the rule's channel as it is
    now (a later edit of the rule does not redirect what is already queued)."""
    session.flush()  # the alert's defaults, for its body
    notification = AlertNotification(
        workspace_id=alert.workspace_id,
        id=uuid.uuid4(),
        alert_id=alert.id,
        event=event,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
        channel_type=rule.channel_type,
        channel_url=rule.channel_url,
        channel_secret=rule.channel_secret,
        body=json.dumps({"event": event, "alert": alert_body(alert)}),
    )
    session.add(notification)
    return notification


@dataclass(frozen=True)
class Claimed:
    """A notification taken for sending, detached from its session."""

    workspace_id: uuid.UUID
    id: uuid.UUID
    alert_id: uuid.UUID
    event: str
    attempts: int
    channel_type: str
    channel_url: str
    channel_secret: str | None
    body: str


def claim(session: Session, limit: int, now: datetime | None = None) -> list[Claimed]:
    """Takes up to `limit` due notifications for a lease. Rows another sender holds are
    skipped (PostgreSQL: SKIP LOCKED; SQLite: the write lock serialises claims)."""
    now = now or utcnow()
    query = (
        select(AlertNotification)
        .where(
            AlertNotification.status == "pending",
            AlertNotification.next_attempt_at <= now,
            or_(
                AlertNotification.locked_until.is_(None),
                AlertNotification.locked_until <= now,
            ),
        )
        .order_by(
            AlertNotification.next_attempt_at,
            AlertNotification.created_at,
            AlertNotification.id,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = []
    for row in session.scalars(query):
        row.locked_until = now + LEASE
        claimed.append(
            Claimed(
                row.workspace_id,
                row.id,
                row.alert_id,
                row.event,
                row.attempts,
                row.channel_type,
                row.channel_url,
                row.channel_secret,
                row.body,
            )
        )
    session.flush()
    return claimed


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 ... seconds, capped."""
    seconds = FIRST_BACKOFF_SECONDS * 2 ** min(attempts - 1, 20)
    return timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


def finish(
    session: Session,
    claimed: Claimed,
    status_code: int | None,
    error: str | None,
    now: datetime | None = None,
) -> str:
    """Records one attempt's outcome; returns it: delivered, retried or failed."""
    now = now or utcnow()
    row = session.get(AlertNotification, (claimed.workspace_id, claimed.id))
    if row is None or row.status != "pending":
        return "gone"  # the workspace was deleted, or another sender finished it
    row.attempts += 1
    row.last_status_code = status_code
    row.locked_until = None
    if error is None:
        row.status, row.delivered_at, row.last_error = "delivered", now, None
        outcome = "delivered"
    elif row.attempts >= MAX_ATTEMPTS:
        row.status, row.last_error = "failed", error
        outcome = "failed"
    else:
        row.last_error = error
        row.next_attempt_at = now + backoff(row.attempts)
        outcome = "retried"
    session.flush()
    return outcome
