"""The rule for a member key, shared by the JSON API, the streaming upload and the importer."""

from __future__ import annotations

from insights.types import is_unicode_text

MAX_KEY_LENGTH = 256


def member_key_problem(key: object) -> str | None:
    """Why `key` is not a valid member key, or None when it is."""
    if not isinstance(key, str):
        return "a member key must be a string"
    if not key:
        return "a member key must not be empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"a member key must be at most {MAX_KEY_LENGTH} characters"
    if "\n" in key or "\r" in key:
        return "a member key must not contain a line break"
    if "\x00" in key:  # PostgreSQL text cannot hold it
        return "a member key must not contain a NUL character"
    if not is_unicode_text(key):
        return "a member key must not contain a lone surrogate"
    return None
