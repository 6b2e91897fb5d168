"""Sorting and deduplicating a run of member keys in numpy, whose sort and array operations
run without the GIL: Python's own sort of a million keys held it for about two seconds, and
every other request of the process (/healthz included) waited that long."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Largest table of keys as fixed-width rows (keys x widest key); past it the caller lets the
# database sort (a run of a million 25-byte keys takes 25 MB).
MAX_TABLE_BYTES = 64 << 20
# Rows handled per numpy step: bounds the temporaries (masks, indexes) of a step.
STEP_ROWS = 1 << 16
NEWLINE, QUOTE, COMMA, BACKSLASH = 0x0A, 0x22, 0x2C, 0x5C


def needs_json_escape(data: bytes) -> bool:
    """Whether a key of `data` (newline-separated UTF-8) holds a character JSON escapes."""
    buf = np.frombuffer(data, dtype=np.uint8)
    control = (buf < 0x20) & (buf != NEWLINE)
    return bool(np.any(control | (buf == QUOTE) | (buf == BACKSLASH)))


def sorted_unique_json(data: bytes) -> tuple[NDArray[np.uint8], int] | None:
    """The distinct keys of `data` (newline-separated, none empty, none needing a JSON escape),
    sorted by their UTF-8 bytes (which is code point order, SQLite's BINARY and PostgreSQL's
    "C" order), as a JSON array's bytes, and their number; None when the keys as fixed-width
    rows would take more than MAX_TABLE_BYTES."""
    table = _key_table(np.frombuffer(data + b"\n", dtype=np.uint8))
    if table is None:
        return None
    width = table.shape[1]
    ordered = np.sort(table.view(f"S{width}").ravel()).view(np.uint8).reshape(-1, width)
    return _json_array(_drop_repeats(ordered))


def _key_table(buf: NDArray[np.uint8]) -> NDArray[np.uint8] | None:
    """One row a key, padded with zero bytes (no key holds a NUL, so padding sorts first)."""
    ends = np.flatnonzero(buf == NEWLINE)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    width = int(lengths.max())
    if width == 0 or len(ends) * width > MAX_TABLE_BYTES:
        return None
    if np.all(lengths == width):  # keys of one length: the lines are the rows already
        return buf.reshape(-1, width + 1)[:, :width].copy()
    table = np.zeros((len(ends), width), dtype=np.uint8)
    columns = np.arange(width)
    for first in range(0, len(ends), STEP_ROWS):
        last = min(first + STEP_ROWS, len(ends))
        part = buf[starts[first] : ends[last - 1]]
        table[first:last][columns < lengths[first:last, None]] = part[part != NEWLINE]
    return table


def _drop_repeats(table: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The rows of a sorted table without repeats."""
    keep = np.ones(len(table), dtype=bool)
    keep[1:] = np.any(table[1:] != table[:-1], axis=1)
    return table[keep]


def _json_array(table: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], int]:
    """`["key","key",...]` from a table of keys padded with zero bytes."""
    rows, width = table.shape
    parts = [np.frombuffer(b"[", dtype=np.uint8)]
    columns = np.arange(width + 3)
    for first in range(0, rows, STEP_ROWS):
        keys = table[first : first + STEP_ROWS]
        lengths = np.count_nonzero(keys, axis=1)
        out = np.zeros((len(keys), width + 3), dtype=np.uint8)
        out[:, 0] = QUOTE
        out[:, 1 : width + 1] = keys
        flat, base = out.reshape(-1), np.arange(len(keys)) * (width + 3)
        flat[base + lengths + 1] = QUOTE
        flat[base + lengths + 2] = COMMA
        parts.append(out[columns < (lengths + 3)[:, None]])
    array = np.concatenate(parts)
    array[-1] = ord("]")  # in place of the last comma: a table has at least one row
    return array, rows
