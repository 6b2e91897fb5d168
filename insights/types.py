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
    try:
        return value.astimezone(UTC).replace(microsecond=0)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past the last representable year
        raise ValueError("the timestamp is out of range") from None


def _text_only(value: Any) -> Any:
    # JSON has no timestamp type: only a string is one (a bare number is not).
    if not isinstance(value, str | datetime):
        raise ValueError("a timestamp must be an ISO 8601 string with a zone")
    return value


# In requests: must carry a zone (a naive timestamp is a 400); stored as UTC whole seconds.
InTimestamp = Annotated[AwareDatetime, BeforeValidator(_text_only), AfterValidator(_to_utc_seconds)]
# In responses.
OutTimestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it everywhere keeps both databases alike.
    if "\x00" in value:
        raise ValueError("text must not contain a NUL character")
    if not is_unicode_text(value):
        raise ValueError("text must not contain a lone surrogate (\\ud800-\\udfff)")
    return value


def is_unicode_text(value: str) -> bool:
    """False for a string with a lone surrogate, which JSON allows and UTF-8 cannot hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# The largest value a BIGINT column holds.
MAX_COUNT = 2**63 - 1

# Strict: a number is not a name, "5" is not a count.
Name = Annotated[str, Strict(), Field(min_length=1, max_length=255), AfterValidator(_no_nul)]
ShortText = Annotated[str, Strict(), Field(min_length=1, max_length=255), AfterValidator(_no_nul)]
Label = Annotated[str, Strict(), Field(min_length=1, max_length=64), AfterValidator(_no_nul)]
Text = Annotated[str, Strict(), AfterValidator(_no_nul)]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_COUNT)]


class RequestModel(BaseModel):
    """A request body: unknown fields are refused (400); its field types are strict."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    """A response body."""

    model_config = ConfigDict(from_attributes=True)


def present_fields(model: BaseModel) -> dict[str, Any]:
    """The fields the client actually sent: a partial update changes only these."""
    return {name: getattr(model, name) for name in model.model_fields_set}
