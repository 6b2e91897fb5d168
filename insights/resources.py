"""Create, read, list, update and delete for every resource kind (contract 4.1)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from insights import data_version
from insights.db import Lock, insert_new, locked
from insights.errors import BadRequest, Conflict, NotFound
from insights.kinds import KINDS, Kind, derived_fields, referrers
from insights.models import Sync, utcnow
from insights.pagination import Page
from insights.schemas.base import present_fields
from insights.schemas.resources import ResourceCreate, ResourceRead, ResourceUpdate


def _query(kind: Kind, workspace_id: uuid.UUID) -> Select[Any]:
    query = select(kind.table).where(kind.table.workspace_id == workspace_id)
    if kind.sync_kind is not None:
        query = query.where(Sync.kind == kind.sync_kind)
    return query


def find(
    session: Session, workspace_id: uuid.UUID, kind: Kind, rid: uuid.UUID, lock: Lock | None = None
) -> Any:
    """The object, or None; never one of another workspace or another kind. With `lock`, the
    row is locked for what the caller will do (insights.db.Lock) and read as committed."""
    query = _query(kind, workspace_id).where(kind.table.id == rid)
    return session.scalars(locked(query, lock)).first()


def ids(session: Session, workspace_id: uuid.UUID, kind: Kind) -> set[uuid.UUID]:
    """The ids of every object of this kind in the workspace."""
    query = _query(kind, workspace_id).with_only_columns(kind.table.id)
    return set(session.scalars(query))


def get(
    session: Session, workspace_id: uuid.UUID, kind: Kind, rid: uuid.UUID, lock: Lock | None = None
) -> Any:
    """The object (see `find`), else 404."""
    obj = find(session, workspace_id, kind, rid, lock)
    if obj is None:
        raise NotFound(f"{kind.title} {rid} does not exist.")
    return obj


def read(session: Session, workspace_id: uuid.UUID, kind: Kind, obj: Any) -> ResourceRead:
    """The object as the API shows it, derived fields included."""
    extra = derived_fields(session, workspace_id, kind, [obj.id]).get(obj.id, {})
    return kind.read.model_validate({**_columns(obj), **extra})


def list_page(
    session: Session, workspace_id: uuid.UUID, kind: Kind, page: Page, status: str | None
) -> dict[str, Any]:
    query = _query(kind, workspace_id)
    if status is not None:
        if status not in kind.statuses:
            allowed = ", ".join(kind.statuses)
            raise BadRequest(f"Query parameter status must be one of {allowed}, not {status!r}.")
        query = query.where(kind.table.status == status)
    query = query.order_by(kind.table.created_at.desc(), kind.table.id)
    objects, total = page.fetch(session, query)
    extra = derived_fields(session, workspace_id, kind, [o.id for o in objects])
    data = [kind.read.model_validate({**_columns(o), **extra.get(o.id, {})}) for o in objects]
    return page.body(data, total)


def create(
    session: Session, workspace_id: uuid.UUID, kind: Kind, body: ResourceCreate
) -> tuple[Any, bool]:
    """(the object, whether it was created now); a same-content retry returns the stored one,
    also when the retry ran beside the first request and lost the race to insert."""
    values = body.model_dump(exclude={"id"})
    stored = None if body.id is None else session.get(kind.table, (workspace_id, body.id))
    if stored is not None:
        return _stored_again(kind, stored, values), False
    _check_references(session, workspace_id, kind, values)
    obj = kind.table(workspace_id=workspace_id, **values)
    if kind.sync_kind is not None:
        obj.kind = kind.sync_kind
    if body.id is None:
        session.add(obj)
        session.flush()
        return obj, True
    obj.id = body.id
    if insert_new(session, obj):
        return obj, True
    stored = session.get(kind.table, (workspace_id, body.id), populate_existing=True)
    return _stored_again(kind, stored, values), False


def _stored_again(kind: Kind, stored: Any, values: dict[str, Any]) -> Any:
    """The stored object when `values` are its content, else 409."""
    if _is_same(kind, stored, values):
        return stored
    raise Conflict(f"{kind.title} {stored.id} already exists with other content.")


def update(
    session: Session, workspace_id: uuid.UUID, kind: Kind, rid: uuid.UUID, body: ResourceUpdate
) -> Any:
    obj = get(session, workspace_id, kind, rid, lock="update")
    changes = present_fields(body)
    for name, value in changes.items():
        if value is None and not _nullable(kind, name):
            raise BadRequest(f"Field {name} must not be null.")
    _check_references(session, workspace_id, kind, changes)
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.updated_at = utcnow()
    session.flush()
    return obj


def remove(session: Session, workspace_id: uuid.UUID, kind: Kind, rid: uuid.UUID) -> None:
    """Delete, unless another object names it (409); runs and evaluations go with it.

    The row is locked first: a create that names it either holds its reference lock already
    (the delete waits, then sees the new referrer: 409) or waits for the delete (then finds
    nothing to name: 400)."""
    if kind.before_delete is not None:
        kind.before_delete(session, workspace_id)
    get(session, workspace_id, kind, rid, lock="delete")
    for referrer, field in referrers(kind):
        column = getattr(referrer.table, field)
        query = _query(referrer, workspace_id).where(column == rid).limit(1)
        user = session.scalars(query).first()
        if user is not None:
            raise Conflict(
                f"{kind.title} {rid} is used by {referrer.label} {user.id}; delete that first."
            )
    table = kind.table
    session.execute(delete(table).where(table.workspace_id == workspace_id, table.id == rid))
    data_version.note_write(session, workspace_id)  # a bulk delete: no ORM event sees it
    if kind.after_delete is not None:
        kind.after_delete(session, workspace_id)


def _check_references(
    session: Session, workspace_id: uuid.UUID, kind: Kind, values: dict[str, Any]
) -> None:
    for field, path in kind.references.items():
        target_id = values.get(field)
        if target_id is None:
            continue
        target = KINDS[path]
        # Locked until this transaction ends, so that a delete cannot take it away meanwhile.
        if find(session, workspace_id, target, target_id, lock="refer") is None:
            raise BadRequest(
                f"Field {field} {target_id} does not name a {target.label} of this workspace."
            )


def _is_same(kind: Kind, stored: Any, values: dict[str, Any]) -> bool:
    if kind.sync_kind is not None and getattr(stored, "kind", None) != kind.sync_kind:
        return False
    return all(getattr(stored, name) == value for name, value in values.items())


def _nullable(kind: Kind, name: str) -> bool:
    # Required on create means required for good: the shared syncs table allows a null
    # model_id (audience-syncs have none), a model sync must not.
    if kind.create.model_fields[name].is_required():
        return False
    return bool(kind.table.__table__.columns[name].nullable)


def _columns(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}
