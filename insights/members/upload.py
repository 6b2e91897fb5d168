"""The streaming member upload (contract 4.4): body chunks to batches of validated keys."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import NoReturn

from insights.errors import BadRequest
from insights.members.keys import MAX_KEY_LENGTH, member_key_problem
from insights.types import is_unicode_text

TEXT = "text/plain"
NDJSON = "application/x-ndjson"
BATCH_KEYS = 100_000
# A line may be longer than a key in bytes (4 per character, 6 per JSON escape); past this
# it cannot be a valid key, so the parser stops instead of buffering a body without newlines.
MAX_LINE_BYTES = 8 * MAX_KEY_LENGTH + 64
BOM = "\ufeff".encode()


def media_type(content_type: str | None) -> str:
    """The upload format named by a Content-Type header; a 400 for any other."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in (TEXT, NDJSON):
        raise BadRequest(
            f"The Content-Type header must be {TEXT} or {NDJSON}, not {kind or 'none'!r}."
        )
    return kind


class KeyParser:
    """Turns body chunks into batches of validated keys, keeping only a partial last line.

    Whole runs of lines are decoded and checked at once (str methods and one json.loads per
    run), line by line only to name the bad line once a run is known to hold one."""

    def __init__(self, kind: str, batch_keys: int = BATCH_KEYS) -> None:
        self.ndjson = kind == NDJSON
        self.batch_keys = batch_keys
        self.line = 0  # lines completed so far
        self.rest = b""
        self.batch: list[str] = []

    def feed(self, chunk: bytes) -> list[list[str]]:
        """The batches of keys completed by this chunk."""
        data = self.rest + chunk
        if self.line == 0 and data.startswith(BOM):
            data = data[len(BOM) :]
        end = data.rfind(b"\n")
        self.rest = data[end + 1 :]
        if len(self.rest) > MAX_LINE_BYTES:
            self._fail(self.line + 1, f"a member key must be at most {MAX_KEY_LENGTH} characters")
        return self._take(data[: end + 1]) if end >= 0 else []

    def close(self) -> list[list[str]]:
        """The last batches, including a final line without a newline."""
        batches = self._take(self.rest + b"\n") if self.rest else []
        self.rest = b""
        if self.batch:
            batches.append(self.batch)
            self.batch = []
        return batches

    def _take(self, block: bytes) -> list[list[str]]:
        """Keys of whole lines (`block` ends with a newline); a CR before a newline goes."""
        text = self._decode(block.replace(b"\r\n", b"\n")[:-1])
        lines = text.split("\n")
        keys = self._json_keys(lines) if self.ndjson else self._text_keys(text, lines)
        self.line += len(lines)
        self.batch.extend(keys)
        batches = []
        while len(self.batch) >= self.batch_keys:
            batches.append(self.batch[: self.batch_keys])
            self.batch = self.batch[self.batch_keys :]
        return batches

    def _decode(self, block: bytes) -> str:
        try:
            return block.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._fail(
                self.line + block.count(b"\n", 0, exc.start) + 1, "the line is not valid UTF-8"
            )

    def _text_keys(self, text: str, lines: list[str]) -> list[str]:
        keys = list(filter(None, lines))
        suspect = "\r" in text or "\x00" in text  # decoded UTF-8 holds no lone surrogate
        if suspect or max(map(len, keys), default=0) > MAX_KEY_LENGTH:
            self._find_bad(lines, lines)
        return keys

    def _json_keys(self, lines: list[str]) -> list[str]:
        present = list(filter(str.strip, lines))
        keys = None
        # A line longer than any key's JSON could be is not parsed at all (a line of
        # thousands of "[" would exhaust the parser's recursion).
        if max(map(len, present), default=0) <= MAX_LINE_BYTES:
            keys = _json_value("[" + ",".join(present) + "]")
        if not isinstance(keys, list) or len(keys) != len(present) or not _all_good(keys):
            self._find_bad(lines, [_json_line(line) for line in lines])
        return keys

    def _find_bad(self, lines: list[str], values: Iterable[object]) -> NoReturn:
        """Raises for the first bad line of a run known to hold one."""
        for offset, (line, value) in enumerate(zip(lines, values, strict=True)):
            if not (line.strip() if self.ndjson else line):
                continue  # an empty line is skipped, not refused
            problem = _LINE_PROBLEMS.get(id(value)) or member_key_problem(value)
            if problem is not None:
                self._fail(self.line + offset + 1, problem)
        raise AssertionError("a run flagged as bad had no bad line")

    def _fail(self, line: int, problem: str) -> NoReturn:
        raise BadRequest(f"Line {line}: {problem}.")


_NOT_JSON, _TOO_LONG = object(), object()
_LINE_PROBLEMS = {
    id(_NOT_JSON): "the line is not a JSON string",
    id(_TOO_LONG): f"a member key must be at most {MAX_KEY_LENGTH} characters",
}


def _json_value(text: str) -> object:
    """The parsed JSON, or _NOT_JSON for text that is not JSON or nests too deep to parse."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _json_line(line: str) -> object:
    return _TOO_LONG if len(line) > MAX_LINE_BYTES else _json_value(line)


def _all_good(keys: list[object]) -> bool:
    """Whether every parsed value is a valid key (member_key_problem finds nothing), checked
    without a Python loop per key."""
    if not {str}.issuperset(map(type, keys)):
        return False
    strings: list[str] = keys  # type: ignore[assignment]
    joined = "".join(strings)
    return (
        all(strings)
        and "\n" not in joined
        and "\r" not in joined
        and "\x00" not in joined
        and (joined.isascii() or is_unicode_text(joined))
        and max(map(len, strings), default=0) <= MAX_KEY_LENGTH
    )
