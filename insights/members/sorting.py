"""Sorting and deduplicating a run of member keys in numpy, whose sort and array operations
run without the GIL: Python's own sort of a million keys held it for about two seconds, and
every other request of the process (/healthz included) waited that long."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Largest table of keys as fixed-width rows (keys x widest key); past it the caller lets the
# database sort (a run of a million 25-byte keys takes 25 MB).
MAX_TABLE_BYTES = 64 << 20
# Largest table of a whole upload sorted at once (PostgreSQL's stage): 10M keys of 25 bytes
# take 250 MB; past it the database sorts.
MAX_UPLOAD_TABLE_BYTES = 512 << 20
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
    return _json_array(sorted_unique(table))


def key_table(blocks: list[bytes]) -> NDArray[np.uint8] | None:
    """The keys of `blocks` (each newline-separated, none empty, no final newline) in their
    order, repeats included, one row a key padded with zero bytes; None (and `blocks` left
    as they were) when the table would take more than MAX_UPLOAD_TABLE_BYTES. `blocks` is
    emptied as the table fills, so each block's memory goes once it is copied."""
    rows, width = _table_shape(blocks)
    if width == 0 or rows * width > MAX_UPLOAD_TABLE_BYTES:
        return None
    table = np.zeros((rows, width), dtype=np.uint8)
    row = 0
    blocks.reverse()
    while blocks:
        buf = np.frombuffer(blocks.pop() + b"\n", dtype=np.uint8)
        row += _fill_rows(table[row:], buf, np.flatnonzero(buf == NEWLINE))
    return table


def sorted_unique(table: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The distinct rows of a key table sorted by their bytes (code point order), sorted
    and moved to its front in place: the table is the only copy of the keys."""
    if not len(table):
        return table
    table.view(f"S{table.shape[1]}").ravel().sort()
    keep = np.ones(len(table), dtype=bool)
    for first in range(1, len(table), STEP_ROWS):
        part = slice(first, first + STEP_ROWS)
        previous = slice(first - 1, first - 1 + STEP_ROWS)
        keep[part] = np.any(table[part] != table[previous][: len(keep[part])], axis=1)
    return kept_rows(table, keep)


def kept_rows(table: NDArray[np.uint8], keep: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """The rows `keep` selects, moved to the table's front in place (a row only ever moves
    towards the front, over rows already read), a step at a time."""
    kept = 0
    for first in range(0, len(table), STEP_ROWS):
        chosen = table[first : first + STEP_ROWS][keep[first : first + STEP_ROWS]]
        table[kept : kept + len(chosen)] = chosen
        kept += len(chosen)
    return table[:kept]


def _table_shape(blocks: list[bytes]) -> tuple[int, int]:
    """(keys, bytes of the longest key) of newline-separated blocks."""
    rows = width = 0
    for block in blocks:
        ends = np.flatnonzero(np.frombuffer(block + b"\n", dtype=np.uint8) == NEWLINE)
        lengths = np.diff(ends, prepend=-1) - 1
        rows, width = rows + len(ends), max(width, int(lengths.max()))
    return rows, width


def _fill_rows(table: NDArray[np.uint8], buf: NDArray[np.uint8], ends: NDArray[np.intp]) -> int:
    """Copies the keys of `buf` (each line ended by a newline, at `ends`) into the first
    rows of `table`, which is at least as wide as the longest; returns how many."""
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    width = int(lengths.max())
    if np.all(lengths == width):
        table[: len(ends), :width] = buf.reshape(-1, width + 1)[:, :width]
        return len(ends)
    columns = np.arange(table.shape[1])
    for first in range(0, len(ends), STEP_ROWS):
        last = min(first + STEP_ROWS, len(ends))
        part = buf[starts[first] : ends[last - 1]]
        table[first:last][columns < lengths[first:last, None]] = part[part != NEWLINE]
    return len(ends)


def _key_table(buf: NDArray[np.uint8]) -> NDArray[np.uint8] | None:
    """One row a key, padded with zero bytes (no key holds a NUL, so padding sorts first)."""
    ends = np.flatnonzero(buf == NEWLINE)
    width = int((np.diff(ends, prepend=-1) - 1).max())
    if width == 0 or len(ends) * width > MAX_TABLE_BYTES:
        return None
    table = np.zeros((len(ends), width), dtype=np.uint8)
    _fill_rows(table, buf, ends)
    return table


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
