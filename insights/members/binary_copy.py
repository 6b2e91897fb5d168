"""Rows of keys in PostgreSQL's binary COPY format, built in numpy a step at a time: the
server reads them without parsing text, and Python never loops over the keys."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from insights.members.sorting import STEP_ROWS

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
# Each row: its number of fields, then each field's length (int4) and big-endian bytes; the
# key comes last, after these fixed fields.
STAGE_FIELDS = np.dtype(
    [("fields", ">i2"), ("n1", ">i4"), ("pos", ">i4"), ("n2", ">i4"), ("part", ">i4")]
)
DICTIONARY_FIELDS = np.dtype(
    [("fields", ">i2"), ("n1", ">i4"), ("workspace", "V16"), ("n2", ">i4"), ("id", ">i8")]
)


def stage_rows(table: NDArray[np.uint8], part_rows: int) -> Iterator[bytes]:
    """COPY data of (pos int4, part int4, key text) for each row of a key table (padded
    with zero bytes, which no key holds): pos is the row's index, part is pos // part_rows."""
    yield HEADER
    for first in range(0, len(table), STEP_ROWS):
        keys = table[first : first + STEP_ROWS]
        fixed = np.empty(len(keys), dtype=STAGE_FIELDS)
        fixed["fields"], fixed["n1"], fixed["n2"] = 3, 4, 4
        fixed["pos"] = np.arange(first, first + len(keys))
        fixed["part"] = fixed["pos"] // part_rows
        yield _rows(fixed, keys)
    yield TRAILER


def dictionary_rows(workspace: bytes, first_id: int, table: NDArray[np.uint8]) -> Iterator[bytes]:
    """COPY data of (workspace_id uuid, member_id int8, key) for each row of a key table,
    with IDs from `first_id` in row order."""
    yield HEADER
    for first in range(0, len(table), STEP_ROWS):
        keys = table[first : first + STEP_ROWS]
        fixed = np.empty(len(keys), dtype=DICTIONARY_FIELDS)
        fixed["fields"], fixed["n1"], fixed["n2"] = 3, 16, 8
        fixed["workspace"] = np.void(workspace)
        fixed["id"] = np.arange(first_id + first, first_id + first + len(keys))
        yield _rows(fixed, keys)
    yield TRAILER


def _rows(fixed: NDArray[np.void], keys: NDArray[np.uint8]) -> bytes:
    """Each row: its fixed fields, the key's length (int4), the key's bytes."""
    lengths = np.count_nonzero(keys, axis=1)
    start = fixed.dtype.itemsize + 4
    out = np.zeros((len(keys), start + keys.shape[1]), dtype=np.uint8)
    out[:, : fixed.dtype.itemsize] = fixed.view(np.uint8).reshape(len(keys), -1)
    out[:, fixed.dtype.itemsize : start] = lengths.astype(">i4").view(np.uint8).reshape(-1, 4)
    out[:, start:] = keys
    columns = np.arange(out.shape[1])
    data: bytes = out[columns < (lengths + start)[:, None]].tobytes()
    return data
