"""API keys: mint, hash, verify, and what each scope may do. Only a key's hash is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from insights.errors import NotFound, Unauthorized
from insights.models import ApiKey, WorkspaceVersion, utcnow
from insights.pagination import Page

KEY_PREFIX = "sk_live_"
SCOPE_RANK = {"read": 0, "write": 1, "admin": 2}
# Writing last_used_at on every request would make every read a write; a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its workspace and its scope."""

    key_id: uuid.UUID
    workspace_id: uuid.UUID
    scope: str
    last_used_at: datetime | None = None

    def allows(self, needed: str) -> bool:
        return SCOPE_RANK[self.scope] >= SCOPE_RANK[needed]


def hash_key(raw: str) -> str:
    # The key carries 256 random bits, so a fast hash cannot be brute-forced.
    return hashlib.sha256(raw.encode()).hexdigest()


def mint_key(
    session: Session, workspace_id: uuid.UUID, name: str, scope: str
) -> tuple[ApiKey, str]:
    """A new key for the workspace: (its row, the raw key, shown once)."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        workspace_id=workspace_id,
        name=name,
        scope=scope,
        key_prefix=raw[:12],
        key_hash=hash_key(raw),
        status="active",
    )
    session.add(key)
    session.flush()
    return key, raw


def authenticate(session: Session, raw: str) -> Principal:
    """The principal of an active key, else 401."""
    return authenticate_at_version(session, raw)[0]


def check_key_format(raw: str) -> None:
    """401 for what cannot be a key, before any hashing or lookup."""
    if not raw.startswith(KEY_PREFIX) or len(raw) < len(KEY_PREFIX) + 32:
        raise Unauthorized("The API key is malformed.")


def authenticate_at_version(session: Session | Connection, raw: str) -> tuple[Principal, int]:
    """The principal of an active key (else 401) and its workspace's data version, read in
    one statement: a revocation bumps the version, so the pair may be trusted for as long
    as the version stays the same (insights.web.key_cache)."""
    check_key_format(raw)
    key = session.execute(_KEY_BY_HASH, {"key_hash": hash_key(raw)}).first()
    if key is None or key.status != "active":
        raise Unauthorized("The API key is unknown or revoked.")
    return Principal(key.id, key.workspace_id, key.scope, key.last_used_at), int(key.version or 0)


# Every request runs this: built once, and columns rather than an ORM object (a third of
# the key check's time went to building and tracking the object).
_KEY_BY_HASH = (
    select(
        ApiKey.id,
        ApiKey.workspace_id,
        ApiKey.scope,
        ApiKey.status,
        ApiKey.last_used_at,
        WorkspaceVersion.version,
    )
    .outerjoin(WorkspaceVersion, WorkspaceVersion.workspace_id == ApiKey.workspace_id)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)


def needs_touch(principal: Principal) -> bool:
    last = principal.last_used_at
    return last is None or utcnow() - last >= LAST_USED_RESOLUTION


def touch_key(
    session: Session | Connection, principal: Principal, *, skip_locked: bool = False
) -> bool:
    """Records that the key was used, unless a use less than LAST_USED_RESOLUTION ago is
    recorded already (by another process, say). `skip_locked` (PostgreSQL): leave it when
    another transaction holds the key's row, instead of waiting. True when it was written."""
    now = utcnow()
    this_key = (ApiKey.workspace_id == principal.workspace_id, ApiKey.id == principal.key_id)
    query = update(ApiKey).where(
        *this_key,
        or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USED_RESOLUTION),
    )
    if skip_locked:
        free = select(ApiKey.id).where(*this_key).with_for_update(skip_locked=True)
        query = query.where(ApiKey.id.in_(free.scalar_subquery()))
    result = session.execute(query.values(last_used_at=now))
    return bool(getattr(result, "rowcount", 0))


def list_keys(session: Session, workspace_id: uuid.UUID, page: Page) -> dict[str, Any]:
    query = (
        select(ApiKey)
        .where(ApiKey.workspace_id == workspace_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    keys, total = page.fetch(session, query)
    return page.body(keys, total)


def revoke_key(session: Session, workspace_id: uuid.UUID, key_id: uuid.UUID) -> None:
    key = session.get(ApiKey, (workspace_id, key_id))
    if key is None:
        raise NotFound(f"API key {key_id} does not exist.")
    key.status = "revoked"
    key.updated_at = utcnow()
