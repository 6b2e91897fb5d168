"""Field types shared by every request and response model: timestamps, names, counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
)


def format_timestamp(value: datetime) -> str:
    """The wire form of a timestamp: UTC, whole seconds, Z suffix."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_utc_seconds(value: datetime) -> datetime:
    # The API works at one-second resolution: what is stored is exactly what is read back.
    return value.astimezone(UTC).replace(microsecond=0)


def _text_only(value: Any) -> Any:
    # JSON has no timestamp type: only a string is one (a bare number is not).
    if not isinstance(value, str | datetime):
        raise ValueError("a timestamp must be an ISO 8601 string with a zone")
    return value


# In requests: must carry a zone (a naive timestamp is a 400); stored as UTC whole seconds.
InTimestamp = Annotated[AwareDatetime, BeforeValidator(_text_only), AfterValidator(_to_utc_seconds)]
# In responses.
OutTimestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]

# Strict: a number is not a name, "5" is not a count.
Name = Annotated[str, Strict(), Field(min_length=1, max_length=255)]
ShortText = Annotated[str, Strict(), Field(min_length=1, max_length=255)]
Text = Annotated[str, Strict()]
Count = Annotated[int, Strict(), Field(ge=0)]


class RequestModel(BaseModel):
    """A request body: unknown fields are refused (400); its field types are strict."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    """A response body."""

    model_config = ConfigDict(from_attributes=True)


def present_fields(model: BaseModel) -> dict[str, Any]:
    """The fields the client actually sent: a partial update changes only these."""
    return {name: getattr(model, name) for name in model.model_fields_set}
