"""Audience evaluations (contract 4.3): sizes and member lists, each stored in one
transaction with the caller's session."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights import members, metrics, resources
from insights.errors import BadRequest, Conflict
from insights.kinds import KINDS
from insights.models import AudienceEvaluation, utcnow
from insights.pagination import Page
from insights.schemas.evaluations import EvaluationCreate, EvaluationRead
from insights.types import format_timestamp


def default_evaluated_at() -> datetime:
    """When an evaluation that names no time happened: now, to the whole second."""
    return utcnow().replace(microsecond=0)


def lock_audience(session: Session, workspace_id: uuid.UUID, audience_id: uuid.UUID) -> None:
    """404 unless the audience exists; its row is then locked against a delete until the
    transaction ends (the delete waits, and takes what this wrote along)."""
    resources.get(session, workspace_id, KINDS["audiences"], audience_id, lock="refer")


def lock_member_list(session: Session, workspace_id: uuid.UUID, audience_id: uuid.UUID) -> None:
    """The locks of a member write, in their one order: the workspace's member lock (which
    serialises every member write of the workspace), then the audience's row."""
    members.lock_members(session, workspace_id)
    lock_audience(session, workspace_id, audience_id)


def record_evaluation(
    session: Session, workspace_id: uuid.UUID, audience_id: uuid.UUID, body: EvaluationCreate
) -> AudienceEvaluation:
    """Store one evaluation in any of its three forms. A member list is read, checked and
    written under the member lock, so a change applies to the list the previous accepted
    one left, never to one read before it committed."""
    evaluated_at = body.evaluated_at or default_evaluated_at()
    if body.size is not None:
        lock_audience(session, workspace_id, audience_id)
        evaluation = AudienceEvaluation(
            workspace_id=workspace_id,
            audience_id=audience_id,
            evaluated_at=evaluated_at,
            size=body.size,
            has_members=False,
        )
        session.add(evaluation)
        session.flush()
        return evaluation
    lock_member_list(session, workspace_id, audience_id)
    check_newer(session, workspace_id, audience_id, evaluated_at)
    if body.members is None:
        bitmap = _apply_change(session, workspace_id, audience_id, body)
        return record_member_evaluation(session, workspace_id, audience_id, evaluated_at, bitmap)
    _check_keys("members", body.members)
    bitmap = members.encode_keys(session, workspace_id, body.members)
    evaluation = record_member_evaluation(session, workspace_id, audience_id, evaluated_at, bitmap)
    metrics.count_member_keys(len(body.members))
    return evaluation


def _apply_change(
    session: Session, workspace_id: uuid.UUID, audience_id: uuid.UUID, body: EvaluationCreate
) -> Any:
    added, removed = body.added or [], body.removed or []
    _check_keys("added", added)
    _check_keys("removed", removed)
    both = set(added).intersection(removed)
    if both:
        raise BadRequest(f"Member key {min(both)!r} is both added and removed.")
    current = members.current_bitmap(session, workspace_id, audience_id)
    if current is None:
        raise Conflict(
            f"Audience {audience_id} has no member list to apply added/removed to; "
            "send the full list in members first."
        )
    added_ids = members.encode_keys(session, workspace_id, added)
    removed_ids = members.encode_keys(session, workspace_id, removed, create=False)
    return members.apply_delta(current[1], added_ids, removed_ids)


def check_newer(
    session: Session, workspace_id: uuid.UUID, audience_id: uuid.UUID, evaluated_at: datetime
) -> None:
    """A member list must be newer than the audience's latest member list (else 409)."""
    latest = session.scalar(
        select(AudienceEvaluation.evaluated_at)
        .where(
            AudienceEvaluation.workspace_id == workspace_id,
            AudienceEvaluation.audience_id == audience_id,
            AudienceEvaluation.has_members.is_(True),
        )
        .order_by(AudienceEvaluation.evaluated_at.desc())
        .limit(1)
    )
    if latest is not None and evaluated_at <= latest:
        raise Conflict(
            f"Field evaluated_at must be after the latest member list of audience "
            f"{audience_id} ({format_timestamp(latest)})."
        )


def record_member_evaluation(
    session: Session,
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    evaluated_at: datetime,
    bitmap: Any,
) -> AudienceEvaluation:
    """Store a full member list as the audience's new current members."""
    check_newer(session, workspace_id, audience_id, evaluated_at)
    previous = members.current_bitmap(session, workspace_id, audience_id)
    added, removed = (
        (None, None) if previous is None else members.change_counts(previous[1], bitmap)
    )
    evaluation = AudienceEvaluation(
        workspace_id=workspace_id,
        audience_id=audience_id,
        evaluated_at=evaluated_at,
        size=len(bitmap),
        has_members=True,
        members_added=added,
        members_removed=removed,
    )
    session.add(evaluation)
    session.flush()
    members.store_bitmap(session, workspace_id, audience_id, evaluation.id, bitmap)
    return evaluation


def list_evaluations(
    session: Session,
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    page: Page,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    """Newest first; since inclusive, until exclusive, both on evaluated_at."""
    table = AudienceEvaluation
    query = select(table).where(
        table.workspace_id == workspace_id, table.audience_id == audience_id
    )
    if since is not None:
        query = query.where(table.evaluated_at >= since)
    if until is not None:
        query = query.where(table.evaluated_at < until)
    query = query.order_by(table.evaluated_at.desc(), table.created_at.desc())
    rows, total = page.fetch(session, query)
    return page.body([EvaluationRead.model_validate(r) for r in rows], total)


def _check_keys(field: str, keys: list[str]) -> None:
    for index, key in enumerate(keys):
        problem = members.member_key_problem(key)
        if problem is not None:
            raise BadRequest(f"Field {field}[{index}] is invalid: {problem}.")
