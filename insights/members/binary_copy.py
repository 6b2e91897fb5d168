"""Rows of keys in PostgreSQL's binary COPY format, built in numpy a step at a time: the
server reads them without parsing text, and Python never loops over the keys."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from insights.members.sorting import STEP_ROWS

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"


def stage_rows(table: NDArray[np.uint8]) -> Iterator[bytes]:
    """COPY data of (position int4, key text) for each row of a key table (padded with zero
    bytes, which no key holds), the position being the row's index."""
    yield HEADER
    for first in range(0, len(table), STEP_ROWS):
        keys = table[first : first + STEP_ROWS]
        positions = np.arange(first, first + len(keys), dtype=">i4")
        yield _rows(_fixed(b"\x00\x02\x00\x00\x00\x04", positions), keys)
    yield TRAILER


def dictionary_rows(
    workspace: bytes, first_id: int, table: NDArray[np.uint8], new: NDArray[np.bool_]
) -> Iterator[bytes]:
    """COPY data of (workspace_id uuid, member_id int8, key) for the rows of `table` that
    `new` selects, with IDs from `first_id` in row order."""
    prefix = b"\x00\x03\x00\x00\x00\x10" + workspace + b"\x00\x00\x00\x08"
    next_id = first_id
    yield HEADER
    for first in range(0, len(table), STEP_ROWS):
        keys = table[first : first + STEP_ROWS][new[first : first + STEP_ROWS]]
        ids = np.arange(next_id, next_id + len(keys), dtype=">i8")
        next_id += len(keys)
        if len(keys):
            yield _rows(_fixed(prefix, ids), keys)
    yield TRAILER


def _fixed(prefix: bytes, values: NDArray[np.generic]) -> NDArray[np.uint8]:
    """One row a value: `prefix`, then the value's big-endian bytes."""
    width = values.dtype.itemsize
    out = np.empty((len(values), len(prefix) + width), dtype=np.uint8)
    out[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    out[:, len(prefix) :] = values.view(np.uint8).reshape(-1, width)
    return out


def _rows(fixed: NDArray[np.uint8], keys: NDArray[np.uint8]) -> bytes:
    """Each row: its fixed bytes, the key's length (int4), the key's bytes."""
    lengths = np.count_nonzero(keys, axis=1)
    start = fixed.shape[1] + 4
    out = np.zeros((len(keys), start + keys.shape[1]), dtype=np.uint8)
    out[:, : fixed.shape[1]] = fixed
    out[:, fixed.shape[1] : start] = lengths.astype(">i4").view(np.uint8).reshape(-1, 4)
    out[:, start:] = keys
    columns = np.arange(out.shape[1])
    data: bytes = out[columns < (lengths + start)[:, None]].tobytes()
    return data
