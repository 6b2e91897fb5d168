"""Alert rules (contract 9.1): create, read, list, update, delete, with their validation:
a threshold where the condition takes one, subjects of this workspace, a channel that may
be reached. Disabling or deleting a rule resolves its firing alerts without notifying."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from insights import resources
from insights.alerts.addresses import check_url
from insights.errors import BadRequest, Conflict, NotFound
from insights.kinds import KINDS
from insights.models import Alert, AlertRule, Sync, utcnow
from insights.pagination import Page
from insights.schemas.alerts import (
    AlertRuleCreate,
    AlertRuleRead,
    AlertRuleUpdate,
    ChannelRead,
)
from insights.schemas.base import present_fields

SYNC_CONDITIONS = ("sync_failed", "health_below", "sla_breached", "throughput_degraded")
THRESHOLDS = {"health_below": "from 1 to 100", "audience_size_change": "above 0"}


def read(rule: AlertRule) -> AlertRuleRead:
    """The rule as the API shows it: the secret only as `has_secret`."""
    return AlertRuleRead(
        id=rule.id,
        workspace_id=rule.workspace_id,
        name=rule.name,
        condition=rule.condition,
        threshold=None if rule.threshold is None else float(rule.threshold),
        sync_ids=rule.sync_ids,
        audience_ids=rule.audience_ids,
        enabled=rule.enabled,
        channel=ChannelRead(
            type=rule.channel_type, url=rule.channel_url, has_secret=bool(rule.channel_secret)
        ),
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def get(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> AlertRule:
    rule = session.get(AlertRule, (workspace_id, rule_id))
    if rule is None:
        raise NotFound(f"Alert rule {rule_id} does not exist.")
    return rule


def list_page(session: Session, workspace_id: uuid.UUID, page: Page) -> dict[str, Any]:
    query = select(AlertRule).where(AlertRule.workspace_id == workspace_id)
    rules, total = page.fetch(session, query.order_by(AlertRule.created_at.desc(), AlertRule.id))
    return page.body([read(rule) for rule in rules], total)


def create(
    session: Session, workspace_id: uuid.UUID, body: AlertRuleCreate, allow_private: bool
) -> tuple[AlertRule, bool]:
    """(the rule, whether it was created now); a same-content retry returns the stored one."""
    values = _columns(body.model_dump(exclude={"id"}), body.channel.model_fields_set)
    if body.id is not None:
        stored = session.get(AlertRule, (workspace_id, body.id))
        if stored is not None:
            if all(getattr(stored, name) == value for name, value in values.items()):
                return stored, False
            raise Conflict(f"Alert rule {body.id} already exists with other content.")
    _check(session, workspace_id, values, allow_private)
    rule = AlertRule(workspace_id=workspace_id, id=body.id or uuid.uuid4(), **values)
    session.add(rule)
    session.flush()
    return rule, True


def change(
    session: Session,
    workspace_id: uuid.UUID,
    rule_id: uuid.UUID,
    body: AlertRuleUpdate,
    allow_private: bool,
) -> AlertRule:
    """Changes the fields sent; a channel sent replaces the channel, keeping the stored
    secret unless the new channel names one (or null) or changes its type."""
    rule = get(session, workspace_id, rule_id)
    sent = present_fields(body)
    for name in ("name", "condition", "enabled", "channel"):
        if name in sent and sent[name] is None:
            raise BadRequest(f"Field {name} must not be null.")
    changes = _columns(body.model_dump(include=set(sent)), _channel_fields(body))
    channel = body.channel
    if channel and "secret" not in channel.model_fields_set and channel.type == rule.channel_type:
        changes.pop("channel_secret", None)
    merged = {name: getattr(rule, name) for name in _COLUMNS} | changes
    _check(session, workspace_id, merged, allow_private)
    condition_changed = changes.get("condition", rule.condition) != rule.condition
    for name, value in changes.items():
        setattr(rule, name, value)
    rule.updated_at = utcnow()
    if not rule.enabled or condition_changed:
        # Off, or watching something else now: what it said before no longer stands.
        resolve_quietly(session, workspace_id, rule.id)
    session.flush()
    return rule


def remove(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> None:
    """Deletes the rule; its alerts stay, resolved, under the rule's name."""
    rule = get(session, workspace_id, rule_id)
    resolve_quietly(session, workspace_id, rule.id)
    session.delete(rule)


def resolve_quietly(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> None:
    """Resolves the rule's firing alerts, queuing no notification (contract 9.2)."""
    session.execute(
        update(Alert)
        .where(Alert.workspace_id == workspace_id, Alert.rule_id == rule_id)
        .where(Alert.state == "firing")
        .values(state="resolved", resolved_at=utcnow())
    )


_COLUMNS = (
    "name",
    "condition",
    "threshold",
    "sync_ids",
    "audience_ids",
    "enabled",
    "channel_type",
    "channel_url",
    "channel_secret",
)


def _channel_fields(body: AlertRuleUpdate) -> set[str]:
    return set() if body.channel is None else body.channel.model_fields_set


def _columns(values: dict[str, Any], channel_fields: set[str]) -> dict[str, Any]:
    """Request fields as columns: IDs as text (JSON lists), the channel flattened."""
    columns = {k: v for k, v in values.items() if k != "channel"}
    for name in ("sync_ids", "audience_ids"):
        if columns.get(name) is not None:
            columns[name] = [str(i) for i in dict.fromkeys(columns[name])]
    channel = values.get("channel")
    if channel is not None:
        columns["channel_type"] = channel["type"]
        columns["channel_url"] = channel["url"]
        columns["channel_secret"] = channel.get("secret") if "secret" in channel_fields else None
    return columns


def _check(
    session: Session, workspace_id: uuid.UUID, rule: dict[str, Any], allow_private: bool
) -> None:
    condition, threshold = rule["condition"], rule["threshold"]
    if condition in THRESHOLDS and threshold is None:
        raise BadRequest(f"Field threshold is required for {condition}.")
    if condition not in THRESHOLDS and threshold is not None:
        raise BadRequest(f"Field threshold does not apply to {condition}.")
    if condition == "health_below" and not 1 <= threshold <= 100:
        raise BadRequest("Field threshold must be from 1 to 100 for health_below.")
    if condition == "audience_size_change" and not threshold > 0:
        raise BadRequest("Field threshold must be above 0 for audience_size_change.")
    watches_syncs = condition in SYNC_CONDITIONS
    _check_subjects(session, workspace_id, "sync_ids", rule["sync_ids"], watches_syncs)
    _check_subjects(session, workspace_id, "audience_ids", rule["audience_ids"], not watches_syncs)
    check_url(rule["channel_url"], allow_private)


def _check_subjects(
    session: Session, workspace_id: uuid.UUID, field: str, ids: list[str] | None, applies: bool
) -> None:
    if ids is None:
        return
    if not applies:
        raise BadRequest(f"Field {field} does not apply to this rule's condition.")
    if field == "sync_ids":
        known = set(session.scalars(select(Sync.id).where(Sync.workspace_id == workspace_id)))
    else:
        known = resources.ids(session, workspace_id, KINDS["audiences"])
    for raw in ids:
        if uuid.UUID(raw) not in known:
            kind = "sync" if field == "sync_ids" else "audience"
            raise BadRequest(f"Field {field} names {raw}, which is not a {kind} of this workspace.")
