"""Synthetic run history for the demo and the benchmarks: schedules, failure streaks,
log-normal durations and row counts, inserted in set-based batches."""

from __future__ import annotations

import heapq
import math
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session

from insights import data_version, db

# Rows per INSERT ... executemany: large enough to amortise the round trip, small enough
# that a batch of dicts stays a few megabytes.
BATCH_ROWS = 5_000
CANCEL_RATE = 0.007
TRIGGERS = (("schedule", 0.95), ("manual", 0.03), ("api", 0.02))
GENERIC_ERRORS = (
    "Warehouse query timed out after 900 seconds",
    "Source connection reset by peer while reading results",
    "Destination API returned HTTP 503 Service Unavailable",
    "Rate limit exceeded (HTTP 429); retries exhausted",
    "Destination rejected the batch: 4% of records had an invalid email",
    "Authentication failed: the refresh token was revoked",
)


@dataclass
class RunPlan:
    """How one sync or loader runs over the history."""

    parent_id: uuid.UUID
    interval_seconds: int
    start: int  # epoch seconds: the first scheduled run is at or after this
    end: int  # epoch seconds: no run starts after this (now, or when it was paused)
    median_seconds: float
    rows_median: float
    fail_start: float  # chance that a healthy run starts a failure streak
    recover: float  # chance that a run after a failed one succeeds again
    failing_tail: int = 0  # the last runs are failures: the sync is failing now
    queued_at_end: bool = False
    errors: tuple[str, ...] = GENERIC_ERRORS
    # The last run's duration and rows, as multiples of the usual: a sync that got slower,
    # or whose throughput collapsed.
    last_duration_factor: float = 1.0
    last_rows_factor: float = 1.0
    skip: Callable[[int], bool] | None = None  # slots (epoch seconds) with no run


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _statuses(plan: RunPlan, rng: random.Random, count: int) -> list[str]:
    """A two-state chain: failures come in streaks, as they do when a token expires."""
    statuses, failing = [], False
    for index in range(count):
        failing = rng.random() >= plan.recover if failing else rng.random() < plan.fail_start
        if index >= count - plan.failing_tail:
            failing = True
        elif rng.random() < CANCEL_RATE:
            statuses.append("cancelled")
            continue
        statuses.append("failed" if failing else "completed")
    return statuses


def _starts(plan: RunPlan, rng: random.Random) -> list[int]:
    phase = rng.randrange(plan.interval_seconds)
    first = plan.start + phase
    slots = range(first, plan.end, plan.interval_seconds)
    # Schedulers start a little late, never early.
    return [slot + rng.randrange(5, 120) for slot in slots if not (plan.skip and plan.skip(slot))]


def _trigger(rng: random.Random) -> str:
    draw = rng.random()
    for trigger, share in TRIGGERS:
        if draw < share:
            return trigger
        draw -= share
    return "schedule"


def _row_counts(plan: RunPlan, rng: random.Random, status: str) -> dict[str, int]:
    processed = int(_lognormal(rng, plan.rows_median, 0.35))
    if status == "failed":
        processed = int(processed * rng.uniform(0.0, 0.6))
    elif status != "completed":
        processed = 0
    created = int(processed * rng.uniform(0.02, 0.15))
    deleted = int(processed * rng.uniform(0.0, 0.02))
    failed = int(processed * rng.uniform(0.0, 0.004)) if rng.random() < 0.3 else 0
    return {
        "rows_processed": processed,
        "rows_created": created,
        "rows_updated": processed - created - deleted - failed,
        "rows_deleted": deleted,
        "rows_failed": failed,
    }


def run_rows(
    plan: RunPlan, rng: random.Random, workspace_id: uuid.UUID, now: int, parent_column: str
) -> Iterator[dict[str, Any]]:
    """The plan's runs as row dicts; a run still going at `now` is `running`.

    `parent_column` is `sync_id` (row counts of a sync run) or `loader_id` (rows_loaded)."""
    starts = _starts(plan, rng)
    statuses = _statuses(plan, rng, len(starts))
    cap = plan.interval_seconds * 0.8  # a run ends before the next one is due
    for index, (started, status) in enumerate(zip(starts, statuses, strict=True)):
        duration = min(_lognormal(rng, plan.median_seconds, 0.45), cap)
        if status != "completed":
            duration *= rng.uniform(0.05, 0.7)
        last = index == len(starts) - 1
        if last:
            duration *= plan.last_duration_factor
        finished = started + max(1, int(duration))
        if finished > now:
            status, finished_at = "running", None
        else:
            finished_at = at(finished)
        row = _row(plan, rng, workspace_id, parent_column, status, started, finished_at)
        if last and plan.last_rows_factor != 1.0:
            _scale_rows(row, plan.last_rows_factor)
        yield row
    if plan.queued_at_end:
        yield _row(plan, rng, workspace_id, parent_column, "queued", now - rng.randrange(60), None)


def history_rows(
    plans: Iterable[RunPlan],
    rng: random.Random,
    workspace_id: uuid.UUID,
    now: int,
    parent_column: str,
) -> Iterator[dict[str, Any]]:
    """The runs of every plan merged by start time: the order a platform reports them in,
    so rows lie in the tables as a real history's do (by time, not by sync)."""
    streams = [run_rows(plan, rng, workspace_id, now, parent_column) for plan in plans]
    return heapq.merge(*streams, key=lambda row: row["started_at"])


def _row(
    plan: RunPlan,
    rng: random.Random,
    workspace_id: uuid.UUID,
    parent_column: str,
    status: str,
    started: int,
    finished_at: datetime | None,
) -> dict[str, Any]:
    started_at = at(started)
    counts = _row_counts(plan, rng, status)
    row: dict[str, Any] = {
        "workspace_id": workspace_id,
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        parent_column: plan.parent_id,
        "status": status,
        "trigger": "manual" if status == "cancelled" else _trigger(rng),
        "started_at": started_at,
        "completed_at": finished_at,
        "error": _error(plan, rng, status),
        "created_at": started_at,
        "updated_at": finished_at or started_at,
    }
    if parent_column == "loader_id":
        row["rows_loaded"] = counts["rows_processed"]
    else:
        row.update(counts)
    return row


def _scale_rows(row: dict[str, Any], factor: float) -> None:
    for column in ("rows_processed", "rows_created", "rows_updated", "rows_deleted"):
        if column in row:
            row[column] = int(row[column] * factor)


def _error(plan: RunPlan, rng: random.Random, status: str) -> str | None:
    if status == "failed":
        return rng.choice(plan.errors)
    if status == "cancelled":
        return "Cancelled by a user"
    return None


def insert_rows(
    session: Session, table: Any, rows: Iterable[dict[str, Any]], batch: int = BATCH_ROWS
) -> int:
    """Insert `rows` set-based, `batch` at a time (one executemany each); returns the count."""
    iterator, total = iter(rows), 0
    while chunk := list(islice(iterator, batch)):
        db.insert_rows(session, table.__table__, chunk)
        for workspace_id in {row["workspace_id"] for row in chunk}:
            data_version.note_write(session, workspace_id)
        total += len(chunk)
    return total
