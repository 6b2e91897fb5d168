"""Which subjects a write touched, noted as the session flushes them, so that what a write
can change is evaluated right after it commits (contract 9.2: runs, evaluations, member
uploads, sync and audience updates, rule changes). Only sessions that ask for it are
watched (the write sessions of the app and the CLI: `info[TRACK]`); bulk statements that
bypass the ORM (the import) are followed by a pass over their workspace instead."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from insights.alerts.evaluate import Scope
from insights.models import AlertRule, Audience, AudienceEvaluation, Sync, SyncRun

TRACK = "alerts.track"
_SCOPES = "alerts.scopes"


def take_scopes(session: Session) -> dict[uuid.UUID, Scope]:
    """What the session's writes touched, by workspace (empty when nothing was), taken off
    the session so that it is evaluated once."""
    scopes: dict[uuid.UUID, Scope] = session.info.pop(_SCOPES, {})
    return scopes


def _scope(session: Session, workspace_id: uuid.UUID) -> Scope:
    scopes: dict[uuid.UUID, Scope] = session.info.setdefault(_SCOPES, {})
    return scopes.setdefault(workspace_id, Scope())


def _note(session: Session, obj: Any) -> None:
    if isinstance(obj, SyncRun):
        _scope(session, obj.workspace_id).syncs.add(obj.sync_id)
    elif isinstance(obj, AudienceEvaluation):
        _scope(session, obj.workspace_id).audiences.add(obj.audience_id)
    elif getattr(obj, "id", None) is None:
        return  # a new object without its ID yet: nothing refers to it, nothing to watch
    elif isinstance(obj, Sync):
        _scope(session, obj.workspace_id).syncs.add(obj.id)
    elif isinstance(obj, Audience):
        _scope(session, obj.workspace_id).audiences.add(obj.id)
    elif isinstance(obj, AlertRule):
        _scope(session, obj.workspace_id).rules.add(obj.id)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not session.info.get(TRACK):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        _note(session, obj)
