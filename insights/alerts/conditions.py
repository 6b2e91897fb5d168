"""Whether each rule's condition holds for each of its subjects now (contract 9.1), with
the figures that make it hold. The facts come from the reports themselves (the score of
8.1, the SLA state of 8.4, the throughput of 8.3), read once per evaluation for the
subjects in scope and only for the conditions some enabled rule asks about."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.models import Audience, AudienceEvaluation, Sync, SyncRun, SyncState
from insights.reports.common import round_half_up
from insights.reports.health_inputs import with_state
from insights.reports.sync_health import health_rows
from insights.reports.sync_sla import sync_sla
from insights.reports.sync_throughput import sync_throughput
from insights.types import format_timestamp

DEGRADED_DAYS = 7  # throughput_degraded reads sync-throughput over the last 7 days


@dataclass(frozen=True)
class Subject:
    """A sync or an audience a rule may watch."""

    type: str  # "sync" or "audience"
    id: uuid.UUID
    name: str
    paused: bool = False


@dataclass
class Facts:
    """What the conditions of the rules in one evaluation need, by subject id."""

    subjects: dict[uuid.UUID, Subject] = field(default_factory=dict)
    last_failed_run: dict[uuid.UUID, dict[str, Any] | None] = field(default_factory=dict)
    health: dict[uuid.UUID, Any] = field(default_factory=dict)
    sla: dict[uuid.UUID, Any] = field(default_factory=dict)
    throughput: dict[uuid.UUID, Any] = field(default_factory=dict)
    sizes: dict[uuid.UUID, tuple[int, int] | None] = field(default_factory=dict)


def gather(
    session: Session,
    workspace_id: uuid.UUID,
    now: datetime,
    conditions: set[str],
    sync_ids: Sequence[uuid.UUID] | None,
    audience_ids: Sequence[uuid.UUID] | None,
) -> Facts:
    """The facts for these conditions over the syncs and audiences in scope (None: all)."""
    facts = Facts()
    sync_conditions = conditions - {"audience_size_change"}
    if sync_conditions and sync_ids != []:
        ids = None if sync_ids is None else list(sync_ids)
        _sync_facts(session, workspace_id, now, sync_conditions, ids, facts)
    if "audience_size_change" in conditions and audience_ids != []:
        ids = None if audience_ids is None else list(audience_ids)
        _audience_facts(session, workspace_id, ids, facts)
    return facts


def _sync_facts(
    session: Session,
    workspace_id: uuid.UUID,
    now: datetime,
    conditions: set[str],
    ids: list[uuid.UUID] | None,
    facts: Facts,
) -> None:
    for row in session.execute(_syncs(workspace_id, ids)):
        facts.subjects[row.id] = Subject("sync", row.id, row.name, row.status == "paused")
        if row.last_finished_status == "failed" and "sync_failed" in conditions:
            facts.last_failed_run[row.id] = None  # read below, only for these
    _latest_failures(session, workspace_id, facts)
    if "health_below" in conditions:
        found = health_rows(session, workspace_id, days=DEGRADED_DAYS, now=now, sync_ids=ids)
        facts.health = {one.entry.sync_id: one.entry for one in found}
    if "sla_breached" in conditions:
        report = sync_sla(session, workspace_id, days=1, now=now, sync_ids=ids)
        facts.sla = {entry.sync_id: entry for entry in report.syncs}
    if "throughput_degraded" in conditions:
        rates = sync_throughput(
            session, workspace_id, days=DEGRADED_DAYS, sync_ids=ids, now=now, with_points=False
        )
        facts.throughput = {entry.sync_id: entry for entry in rates.syncs}


def _syncs(workspace_id: uuid.UUID, ids: list[uuid.UUID] | None) -> Any:
    """id, name, status and the status of the latest finished run of the syncs in scope
    (from the sync's state row, kept by the run table's triggers)."""
    query = select(Sync.id, Sync.name, Sync.status, SyncState.last_finished_status)
    query = with_state(query.where(Sync.workspace_id == workspace_id))
    return query if ids is None else query.where(Sync.id.in_(ids))


def _latest_failures(session: Session, workspace_id: uuid.UUID, facts: Facts) -> None:
    """The latest finished run of each sync whose latest finished run failed: one index
    probe per sync for its ID (latest started_at, then the larger ID), then the runs."""
    failing = list(facts.last_failed_run)
    if not failing:
        return
    latest = (
        select(SyncRun.id)
        .where(
            SyncRun.workspace_id == Sync.workspace_id,
            SyncRun.sync_id == Sync.id,
            SyncRun.status.in_(("completed", "failed")),
        )
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(1)
        .correlate(Sync)
        .scalar_subquery()
    )
    probe = select(latest).where(Sync.workspace_id == workspace_id, Sync.id.in_(failing))
    run_ids = [run_id for run_id in session.scalars(probe) if run_id is not None]
    runs = select(SyncRun.sync_id, SyncRun.id, SyncRun.error, SyncRun.started_at).where(
        SyncRun.workspace_id == workspace_id, SyncRun.id.in_(run_ids)
    )
    for run in session.execute(runs):
        facts.last_failed_run[run.sync_id] = {
            "run_id": str(run.id),
            "error": run.error,
            "started_at": format_timestamp(run.started_at),
        }


def _audience_facts(
    session: Session, workspace_id: uuid.UUID, ids: list[uuid.UUID] | None, facts: Facts
) -> None:
    query = select(Audience.id, Audience.name).where(Audience.workspace_id == workspace_id)
    if ids is not None:
        query = query.where(Audience.id.in_(ids))
    for audience_id, name in session.execute(query):
        facts.subjects[audience_id] = Subject("audience", audience_id, name)
        sizes = session.scalars(
            select(AudienceEvaluation.size)
            .where(
                AudienceEvaluation.workspace_id == workspace_id,
                AudienceEvaluation.audience_id == audience_id,
            )
            .order_by(
                AudienceEvaluation.evaluated_at.desc(),
                AudienceEvaluation.created_at.desc(),
                AudienceEvaluation.id.desc(),
            )
            .limit(2)
        ).all()
        facts.sizes[audience_id] = (sizes[1], sizes[0]) if len(sizes) == 2 else None


def holds(
    condition: str, threshold: Decimal | None, subject: Subject, facts: Facts
) -> dict[str, Any] | None:
    """The figures that make the condition hold for the subject, or None when it does not
    (or when the subject is not one the condition watches)."""
    if subject.paused:
        return None  # every sync condition watches non-paused syncs only
    return _CHECKS[condition](subject.id, threshold, facts)


def _sync_failed(sync_id: uuid.UUID, _threshold: Decimal | None, facts: Facts) -> Any:
    return facts.last_failed_run.get(sync_id)


def _health_below(sync_id: uuid.UUID, threshold: Decimal | None, facts: Facts) -> Any:
    entry = facts.health.get(sync_id)
    if entry is None or entry.health_score is None or threshold is None:
        return None
    if not entry.health_score < threshold:
        return None
    return {
        "health_score": entry.health_score,
        "health_status": entry.health_status,
        "threshold": float(threshold),
        "health_components": entry.health_components.model_dump(),
    }


def _sla_breached(sync_id: uuid.UUID, _threshold: Decimal | None, facts: Facts) -> Any:
    entry = facts.sla.get(sync_id)
    if entry is None or entry.state != "breached":
        return None
    return entry.model_dump(mode="json", exclude={"sync_id", "sync_name", "state"})


def _throughput_degraded(sync_id: uuid.UUID, _threshold: Decimal | None, facts: Facts) -> Any:
    entry = facts.throughput.get(sync_id)
    if entry is None or not entry.degraded:
        return None
    fields = ("current_rows_per_second", "baseline_rows_per_second", "change_percent", "runs")
    return {name: getattr(entry, name) for name in fields}


def _size_change(audience_id: uuid.UUID, threshold: Decimal | None, facts: Facts) -> Any:
    sizes = facts.sizes.get(audience_id)
    if sizes is None or threshold is None:
        return None
    before, after = sizes
    # from 0, any size above 0 counts as a change
    changed = after > 0 if before == 0 else abs(after - before) * 100 > threshold * before
    if not changed:
        return None
    percent = round_half_up((after - before) * 100, before, 2)
    return {
        "previous_size": before,
        "size": after,
        "change_percent": percent,
        "threshold": float(threshold),
    }


_CHECKS: dict[str, Callable[[uuid.UUID, Decimal | None, Facts], dict[str, Any] | None]] = {
    "sync_failed": _sync_failed,
    "health_below": _health_below,
    "sla_breached": _sla_breached,
    "throughput_degraded": _throughput_degraded,
    "audience_size_change": _size_change,
}
