"""Member keys to dense IDs inside the caller's transaction, in batches."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from itertools import islice

from pyroaring import BitMap
from sqlalchemy.orm import Session

from insights.members.bitmaps import bitmap_from_ids
from insights.members.encoding import KeyStage, open_stage

ENCODE_BATCH = 100_000


class MemberEncoder:
    """Maps batches of validated keys to dense IDs inside the caller's transaction. Use it
    as a context manager: encoding may run in the background (SQLite), and leaving the block
    waits for it, so the caller's session is free to commit or roll back."""

    def __init__(self, session: Session, workspace_id: uuid.UUID, create: bool = True) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.create = create
        self._stage: KeyStage | None = None

    def __enter__(self) -> MemberEncoder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def add(self, keys: Sequence[str]) -> None:
        if keys:
            self._open().add(keys)

    def add_text(self, block: bytes) -> None:
        """UTF-8 keys separated by newlines (a block of insights.members.KeySpool)."""
        if block:
            self._open().add_text(block)

    def _open(self) -> KeyStage:
        if self._stage is None:
            self._stage = open_stage(self.session, self.workspace_id, self.create)
        return self._stage

    def prepare(self) -> None:
        """Does what needs every key but no lock (PostgreSQL sorts and stages them): call it
        after the last key and before taking the member lock, which `finish` takes."""
        if self._stage is not None:
            self._stage.prepare()

    def finish(self) -> BitMap:
        """The IDs of every key added; unknown keys get new IDs (create) or are skipped."""
        if self._stage is None:
            return BitMap()
        stage, self._stage = self._stage, None
        known, new_ranges = stage.finish()
        bitmap = bitmap_from_ids(known)
        for start, stop in new_ranges:
            bitmap.add_range(start, stop)
        return bitmap

    def close(self) -> None:
        """Waits for encoding in flight and drops what was not finished."""
        if self._stage is not None:
            stage, self._stage = self._stage, None
            stage.close()


def encode_keys(
    session: Session, workspace_id: uuid.UUID, keys: Iterable[str], create: bool = True
) -> BitMap:
    """The IDs of `keys` (validated), in batches."""
    with MemberEncoder(session, workspace_id, create=create) as encoder:
        iterator = iter(keys)
        while batch := list(islice(iterator, ENCODE_BATCH)):
            encoder.add(batch)
        return encoder.finish()
