"""Opening and resolving alerts (contract 9.2): for each enabled rule and each subject it
watches, whether the condition holds now; an alert opens when it turns true and resolves
when it turns false, each change queuing its notification in the same transaction.

One evaluation of a workspace at a time: on PostgreSQL a transaction-scoped advisory lock
per workspace, on SQLite the write lock every write transaction takes at BEGIN. Two
processes evaluating the same change therefore run one after the other, and the second
sees the first's alert; the partial unique index on firing alerts refuses a second one
should anything ever slip past the lock."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from insights.alerts import outbox
from insights.alerts.conditions import Facts, Subject, gather, holds
from insights.alerts.rules import SYNC_CONDITIONS
from insights.db import is_sqlite
from insights.models import Alert, AlertRule, utcnow

# The first key of the advisory locks this package takes (the second names the workspace,
# or is 0 for the periodic pass): an arbitrary constant of our own.
LOCK_CLASS = 0x1A1E


@dataclass
class Scope:
    """What a change can have moved: these syncs and audiences under every rule, and these
    rules over all their subjects. `everything` is the periodic pass."""

    syncs: set[uuid.UUID] = field(default_factory=set)
    audiences: set[uuid.UUID] = field(default_factory=set)
    rules: set[uuid.UUID] = field(default_factory=set)
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or bool(self.syncs or self.audiences or self.rules)


@dataclass
class Changes:
    """What an evaluation did: alerts opened and resolved."""

    opened: int = 0
    resolved: int = 0

    def __iadd__(self, other: Changes) -> Changes:
        self.opened += other.opened
        self.resolved += other.resolved
        return self


def evaluate(
    session: Session, workspace_id: uuid.UUID, scope: Scope, now: datetime | None = None
) -> Changes:
    """Brings the workspace's alerts in line with its rules, for what `scope` covers."""
    lock_workspace(session, workspace_id)
    now = now or utcnow()
    rules = list(
        session.scalars(
            select(AlertRule)
            .where(AlertRule.workspace_id == workspace_id, AlertRule.enabled.is_(True))
            .order_by(AlertRule.created_at, AlertRule.id)
        )
    )
    changes = Changes()
    if scope.everything:
        return _evaluate(session, workspace_id, rules, None, None, now)
    named = [rule for rule in rules if rule.id in scope.rules]
    if named:
        changes += _evaluate(session, workspace_id, named, None, None, now)
    others = [rule for rule in rules if rule.id not in scope.rules]
    if others and (scope.syncs or scope.audiences):
        changes += _evaluate(session, workspace_id, others, scope.syncs, scope.audiences, now)
    return changes


def lock_workspace(session: Session, workspace_id: uuid.UUID) -> None:
    """Waits for any other evaluation of this workspace to commit (PostgreSQL); SQLite's
    write transactions hold the database's one write lock from their start already."""
    if not is_sqlite(session):
        key = int.from_bytes(workspace_id.bytes[:4], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, key)))


def _evaluate(
    session: Session,
    workspace_id: uuid.UUID,
    rules: list[AlertRule],
    syncs: set[uuid.UUID] | None,
    audiences: set[uuid.UUID] | None,
    now: datetime,
) -> Changes:
    """Evaluates `rules` over the subjects in scope (None: every subject of the kind)."""
    sync_scope = _narrowed(syncs, [r for r in rules if r.condition in SYNC_CONDITIONS], "sync")
    audience_rules = [r for r in rules if r.condition not in SYNC_CONDITIONS]
    audience_scope = _narrowed(audiences, audience_rules, "audience")
    conditions = {rule.condition for rule in rules}
    facts = gather(session, workspace_id, now, conditions, sync_scope, audience_scope)
    holding: dict[tuple[uuid.UUID, uuid.UUID], tuple[Subject, dict[str, object]]] = {}
    judged: dict[tuple[str, object, uuid.UUID], dict[str, object] | None] = {}
    for rule in rules:
        for subject in _watched(rule, facts):
            alike = (rule.condition, rule.threshold, subject.id)  # rules alike judge alike
            if alike not in judged:
                judged[alike] = holds(rule.condition, rule.threshold, subject, facts)
            details = judged[alike]
            if details is not None:
                holding[(rule.id, subject.id)] = (subject, details)
    firing = _firing(session, workspace_id, rules, syncs, audiences)
    changes = Changes()
    by_id = {rule.id: rule for rule in rules}
    for key, alert_id in firing.items():
        if key not in holding:
            alert = session.get_one(Alert, (workspace_id, alert_id))
            alert.state, alert.resolved_at = "resolved", now
            outbox.enqueue(session, by_id[alert.rule_id], alert, "alert.resolved")
            changes.resolved += 1
    for (rule_id, _subject_id), (subject, details) in holding.items():
        if (rule_id, subject.id) in firing:
            continue
        alert = _open(session, workspace_id, by_id[rule_id], subject, details, now)
        outbox.enqueue(session, by_id[rule_id], alert, "alert.firing")
        changes.opened += 1
    session.flush()
    return changes


def _narrowed(
    scope: set[uuid.UUID] | None, rules: list[AlertRule], kind: str
) -> list[uuid.UUID] | None:
    """The subject IDs worth reading facts for: the scope, cut down to what the rules
    watch when each of them names its subjects (None: every subject of the kind)."""
    if not rules:
        return []
    named: set[uuid.UUID] = set()
    for rule in rules:
        ids = rule.sync_ids if kind == "sync" else rule.audience_ids
        if ids is None:
            return None if scope is None else sorted(scope)
        named.update(uuid.UUID(raw) for raw in ids)
    return sorted(named if scope is None else named & scope)


def _watched(rule: AlertRule, facts: Facts) -> Iterable[Subject]:
    kind = "sync" if rule.condition in SYNC_CONDITIONS else "audience"
    ids = rule.sync_ids if kind == "sync" else rule.audience_ids
    wanted = None if ids is None else {uuid.UUID(raw) for raw in ids}
    for subject in facts.subjects.values():
        if subject.type == kind and (wanted is None or subject.id in wanted):
            yield subject


def _firing(
    session: Session,
    workspace_id: uuid.UUID,
    rules: list[AlertRule],
    syncs: set[uuid.UUID] | None,
    audiences: set[uuid.UUID] | None,
) -> dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID]:
    """The IDs of the firing alerts of these rules on the subjects in scope, by (rule,
    subject): only those that resolve are loaded whole."""
    query = select(Alert.rule_id, Alert.subject_id, Alert.id).where(
        Alert.workspace_id == workspace_id,
        Alert.state == "firing",
        Alert.rule_id.in_([rule.id for rule in rules]),
    )
    if syncs is not None or audiences is not None:
        query = query.where(Alert.subject_id.in_(sorted((syncs or set()) | (audiences or set()))))
    return {(row.rule_id, row.subject_id): row.id for row in session.execute(query)}


def _open(
    session: Session,
    workspace_id: uuid.UUID,
    rule: AlertRule,
    subject: Subject,
    details: dict[str, object],
    now: datetime,
) -> Alert:
    alert = Alert(
        workspace_id=workspace_id,
        rule_id=rule.id,
        rule_name=rule.name,
        condition=rule.condition,
        subject_type=subject.type,
        subject_id=subject.id,
        subject_name=subject.name,
        state="firing",
        opened_at=now,
        details=details,
    )
    session.add(alert)
    return alert
