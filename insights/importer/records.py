"""The record types of an NDJSON import: the API's request models plus `type` and the
parent id, read with one pydantic pass per line; and the sentence that explains a bad one."""

from __future__ import annotations

import operator
import uuid
from dataclasses import dataclass
from functools import reduce
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

from insights.kinds import KINDS, Kind
from insights.runs import RUN_KINDS, RunKind
from insights.schemas.evaluations import EvaluationCreate
from insights.validation import validation_reason


@dataclass(frozen=True)
class RecordType:
    """What one `type` of line is: its model, and the kind it creates or hangs under."""

    name: str
    model: type[BaseModel]
    kind: Kind | None = None  # a resource record
    run_kind: RunKind | None = None  # a run record
    parent_field: str | None = None


def _model(name: str, base: type[BaseModel], parent_field: str | None = None) -> type[BaseModel]:
    # `type` and the parent id are excluded from model_dump(), so a record dumps exactly as
    # the API's body would and the API's services take it unchanged.
    fields: dict[str, Any] = {"type": (Annotated[Literal[name], Field(exclude=True)], ...)}
    if parent_field is not None:
        fields[parent_field] = (Annotated[uuid.UUID, Field(exclude=True)], ...)
    return create_model(f"{base.__name__}Record", __base__=base, **fields)


def _record_types() -> dict[str, RecordType]:
    types = [
        RecordType(kind.record, _model(kind.record, kind.create), kind=kind)
        for kind in KINDS.values()
    ]
    for run_kind in RUN_KINDS.values():
        name, column = run_kind.record, run_kind.parent_column
        model = _model(name, run_kind.create, column)
        types.append(RecordType(name, model, run_kind=run_kind, parent_field=column))
    model = _model("evaluation", EvaluationCreate, "audience_id")
    types.append(RecordType("evaluation", model, parent_field="audience_id"))
    return {record_type.name: record_type for record_type in types}


RECORD_TYPES = _record_types()
# A union discriminated by `type`: pydantic reads the tag and validates one model only.
_UNION: Any = Annotated[
    reduce(operator.or_, [t.model for t in RECORD_TYPES.values()]), Field(discriminator="type")
]
_RECORD: TypeAdapter[Any] = TypeAdapter(_UNION)


def parse_record(line: bytes) -> tuple[RecordType, Any]:
    """(its type, the validated record) of one line; ValidationError when it is bad."""
    record = _RECORD.validate_json(line)
    return RECORD_TYPES[record.type], record


def describe(error: ValidationError) -> str:
    """One sentence naming the offending field, in the words of the API's 400s."""
    first = error.errors()[0]
    kind, loc = first["type"], [str(part) for part in first["loc"][1:]]
    name = ".".join(loc)
    if kind == "json_invalid":
        return "the line is not valid JSON"
    if kind == "dict_type" and not loc:
        return "a record must be a JSON object"
    if kind == "union_tag_not_found":
        return "field type is required"
    if kind == "union_tag_invalid":
        expected = ", ".join(RECORD_TYPES)
        return f"unknown type {first['ctx']['tag']!r}; expected one of {expected}"
    if kind == "extra_forbidden":
        return f"unknown field {name}"
    if kind == "missing":
        return f"field {name} is required"
    reason = validation_reason(first)
    return f"field {name} is invalid: {reason}" if name else f"the record is invalid: {reason}"
