"""Field types shared by every request and response model: IDs, timestamps, names, counts."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    Strict,
)

from insights.errors import BadRequest

# Only the hyphenated 8-4-4-4-12 form (any case): the contract writes IDs that way, and
# accepting braces, URNs or bare hex would give one ID several spellings.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(raw: str) -> bool:
    return _UUID.fullmatch(raw) is not None


def parse_uuid(raw: str, name: str) -> uuid.UUID:
    """The one UUID parser of paths, headers, query values and bodies: a 400 naming `name`
    and the value when `raw` is not a UUID written 8-4-4-4-12."""
    if not is_uuid(raw):
        raise BadRequest(f"The value {raw!r} of the {name} is not a valid UUID.")
    return uuid.UUID(raw)


def _uuid_text(value: Any) -> Any:
    if isinstance(value, str) and not is_uuid(value):
        raise ValueError("a UUID is written as 8-4-4-4-12 hexadecimal digits")
    return value


# A UUID in a body, a path or a query: the same forms parse_uuid accepts.
ID = Annotated[uuid.UUID, BeforeValidator(_uuid_text)]


def format_timestamp(value: datetime) -> str:
    """The one wire form of a timestamp: UTC, whole seconds, Z suffix."""
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
# How far ahead of the server's clock the time of an event may be: two clocks disagree a
# little, more is a mistake (an evaluation at 9999-12-31 would make every later member list
# of its audience "older", and put a point at the end of every trend).
MAX_CLOCK_SKEW = timedelta(minutes=5)


def _not_ahead(value: datetime) -> datetime:
    if value > datetime.now(UTC) + MAX_CLOCK_SKEW:
        raise ValueError("the time is more than 5 minutes ahead of the server's clock")
    return value


# The time of something that happened (a run, an evaluation): not in the future.
EventTimestamp = Annotated[InTimestamp, AfterValidator(_not_ahead)]
# In responses.
OutTimestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]
# In responses, given as whole epoch seconds (an int the database computed): pydantic makes
# the UTC datetime and writes the same wire form as OutTimestamp's in its own code, where
# OutTimestamp calls format_timestamp once a value (a thousand-sync report: ~1.5 ms). Only
# for a field that is always given an int, never a datetime (which it would write as is).
EpochTimestamp = datetime


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
# An SLA target: a whole number of minutes or seconds, at least 1 (an INTEGER column).
SlaTarget = Annotated[int, Strict(), Field(ge=1, le=2**31 - 1)]
