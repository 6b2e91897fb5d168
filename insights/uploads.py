"""Member uploads (contract 4.4), shared by the HTTP route and `insights members upload`: a
check answered before any key is read, the keys validated into a spool (members.KeySpool)
with no database connection held, then one transaction that encodes and stores them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from insights import evaluations, members, metrics, resources
from insights.kinds import KINDS
from insights.models import AudienceEvaluation


def check_upload(
    session: Session, workspace_id: uuid.UUID, audience_id: uuid.UUID, evaluated_at: datetime
) -> None:
    """404 for an unknown audience, 409 for a time not after its latest member list: what
    an upload can be told before its client sends a key (the store checks both again)."""
    resources.get(session, workspace_id, KINDS["audiences"], audience_id)
    evaluations.check_newer(session, workspace_id, audience_id, evaluated_at)


def record_member_upload(
    session: Session,
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    evaluated_at: datetime,
    blocks: Iterable[bytes],
) -> AudienceEvaluation:
    """Records the keys of `blocks` (newline-separated, members.KeySpool.blocks) as the
    audience's full membership, exactly like an evaluation with `members`.

    The keys are staged first (PostgreSQL sorts them and copies them into a temporary table;
    SQLite, whose writers are serialised anyway, encodes them as they come); then the member
    lock and the audience's row are taken, the time is checked against the latest list, and
    the list is encoded and stored. The heap freed by a large list goes back to the system
    after it."""
    keys = 0
    try:
        with members.MemberEncoder(session, workspace_id) as encoder:
            for block in blocks:
                encoder.add_text(block)
                keys += block.count(b"\n") + 1 if block else 0  # whole lines, no final newline
            encoder.prepare()
            evaluations.lock_member_list(session, workspace_id, audience_id)
            evaluations.check_newer(session, workspace_id, audience_id, evaluated_at)
            bitmap = encoder.finish()
        evaluation = evaluations.record_member_evaluation(
            session, workspace_id, audience_id, evaluated_at, bitmap
        )
        # A full replacement is where keys fall out of use: the cheap place to look.
        members.collect_garbage(session, workspace_id)
        metrics.count_member_keys(keys)
        return evaluation
    finally:
        members.release_freed_memory()
