"""Pydantic's validation errors told in the service's voice: one sentence naming the
offending field or parameter. The API's 400s and the importer's line errors share it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def sentence(text: str) -> str:
    """`text` as one sentence of the service's voice: a capital first, a period last."""
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def clause(text: str) -> str:
    """A sentence of ours as the end of another ("Line 3: audience ... does not exist"): no
    period, and a lower-case first letter unless the first word is an acronym ("API")."""
    text = text.strip().rstrip(".")
    first_word = text.split(" ", 1)[0]
    if first_word.isupper() or first_word[1:2].isupper():
        return text
    return text[:1].lower() + text[1:]


# Pydantic's error types for a body that is JSON but not an object ([], "text", 42, null).
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "model_type", "dict_type"})
_WHERE = {"body": "Field", "query": "Query parameter", "path": "Path parameter", "header": "Header"}


def describe_validation_error(errors: Any) -> str:
    """One sentence naming the offending parameter or field."""
    first: dict[str, Any] = next(iter(errors), {})
    kind = first.get("type")
    loc = [str(part) for part in first.get("loc", ())]
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    if loc == ["body"] and kind == "missing":
        return "A JSON object is required as the request body."
    if loc == ["body"] and kind in _NOT_AN_OBJECT:
        return "The request body must be a JSON object."
    where = _WHERE.get(loc[0] if loc else "", "Input")
    name = ".".join(loc[1:]) or "body"
    if kind == "extra_forbidden":
        return f"Unknown field {name}."
    if kind == "missing":
        return f"{where} {name} is required."
    reason = validation_reason(first)
    if where == "Field" and name == "body":
        return f"The request body is invalid: {reason}."
    return f"{where} {name} is invalid: {reason}."


def validation_reason(error: Mapping[str, Any]) -> str:
    """Pydantic's message for one error, as the end of a sentence of ours."""
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ").rstrip(".")
    return message[:1].lower() + message[1:]
