"""`insights members ...`: stream a member file into an audience; collect unused keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import click
from pydantic import TypeAdapter, ValidationError
from tqdm import tqdm

from insights import evaluations, members, uploads
from insights.cli.base import main, print_json, read_session, write_session
from insights.schemas.evaluations import EvaluationRead
from insights.settings import Settings
from insights.types import EventTimestamp
from insights.validation import validation_reason

CHUNK_BYTES = 1 << 20
_TIMESTAMP = TypeAdapter(EventTimestamp)


@main.group("members")
def members_group() -> None:
    """Audience member lists and the member-key dictionary."""


def _chunks(file: BinaryIO, bar: tqdm[bytes]) -> Iterator[bytes]:
    while chunk := file.read(CHUNK_BYTES):
        bar.update(len(chunk))
        yield chunk


def _evaluated_at(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return _TIMESTAMP.validate_python(raw)
    except ValidationError as exc:
        reason = validation_reason(exc.errors()[0])
        raise click.BadParameter(f"{raw!r} is not a time this upload can carry: {reason}") from None


@members_group.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", "workspace_id", required=True, type=click.UUID)
@click.option("--audience", "audience_id", required=True, type=click.UUID)
@click.option("--evaluated-at", help="ISO 8601 with a zone; default now.")
@click.option(
    "--format",
    "kind",
    type=click.Choice(["text", "ndjson"]),
    help="One key a line, or one JSON string a line; by default from the extension.",
)
@click.pass_obj
def upload(
    settings: Settings,
    file: Path,
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    evaluated_at: str | None,
    kind: str | None,
) -> None:
    """Make FILE the audience's full membership, streaming it with a progress bar."""
    media = (
        members.NDJSON if (kind or file.suffix.lstrip(".")) in ("ndjson", "jsonl") else members.TEXT
    )
    when = _evaluated_at(evaluated_at) or evaluations.default_evaluated_at()
    with read_session(settings) as session:  # an unknown audience, a stale time: say so first
        uploads.check_upload(session, workspace_id, audience_id, when)
    with members.KeySpool(media) as spool:
        with (
            file.open("rb") as handle,
            tqdm(total=file.stat().st_size, unit="B", unit_scale=True, desc=file.name) as bar,
        ):
            for chunk in _chunks(handle, bar):
                spool.feed(chunk)
            spool.finish()
        with write_session(settings) as session:
            evaluation = uploads.record_member_upload(
                session, workspace_id, audience_id, when, spool.blocks()
            )
            body = EvaluationRead.model_validate(evaluation).model_dump(mode="json")
    print_json(body)


@members_group.command("gc")
@click.option("--workspace", "workspace_id", required=True, type=click.UUID)
@click.option(
    "--min-dead-fraction",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Only collect when at least this share of the dictionary is unused.",
)
@click.pass_obj
def collect(settings: Settings, workspace_id: uuid.UUID, min_dead_fraction: float) -> None:
    """Delete member keys that no audience's current members use."""
    with write_session(settings) as session:
        deleted = members.collect_garbage(
            session, workspace_id, min_dead_fraction=min_dead_fraction
        )
    print_json({"deleted": deleted})
