"""The keys of one member upload, validated as they arrive and kept in a temporary file until
the whole list is in: an upload reads its client's bytes, however slowly they come, without
holding a database connection, and encodes them afterwards in one short transaction."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

from insights.members.upload import KeyParser

# Keys handed to the encoder at a time: whole lines, about 300,000 keys of 25 characters.
SPOOL_BLOCK_BYTES = 8 << 20


class KeySpool:
    """Feed it the body's chunks (a 400 naming the line for a bad key), `finish` it, then
    read `blocks` of keys as often as needed. Close it (or leave its block) to delete the
    file; it lives in the system's temporary directory (TMPDIR)."""

    def __init__(self, kind: str) -> None:
        self._parser = KeyParser(kind)
        # Closed by close() (the spool is itself a context manager).
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="insights-upload-")  # noqa: SIM115
        self.keys = 0  # keys spooled, repeats included

    def __enter__(self) -> KeySpool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def feed(self, chunk: bytes) -> None:
        for batch in self._parser.feed(chunk):
            self._write(batch)

    def finish(self) -> None:
        """Takes the last line, which may have no newline."""
        for batch in self._parser.close():
            self._write(batch)

    def blocks(self) -> Iterator[bytes]:
        """The spooled keys, UTF-8 and newline-separated, in blocks of whole lines (no final
        newline)."""
        self._file.seek(0)
        rest = b""
        while data := self._file.read(SPOOL_BLOCK_BYTES):
            data, rest = rest + data, b""
            end = data.rfind(b"\n")
            rest = data[end + 1 :]
            if end > 0:
                yield data[:end]

    def close(self) -> None:
        self._file.close()

    def _write(self, keys: list[str]) -> None:
        self._file.write("\n".join(keys).encode() + b"\n")
        self.keys += len(keys)
