"""Per-sync sums of finished runs over windows, read from the daily rollups (sync_run_days)
plus the runs of one partial day at each edge, so a window costs O(syncs x days), not
O(runs), and stays exact: a window from `start` is the whole days after start's day from
the rollups, plus the runs in [start, the next midnight); or, when start is in the first
half of its day, the whole days from start's day on, less the runs in [that midnight,
start). Either way at most half a day of runs is read. A window of 32 days or more reads
its whole days as the 16-day blocks they fill (sync_run_blocks) and the days before the
first of them: O(syncs x days / 16).

Every window a report needs comes back as columns of its own query over syncs
(with_window_sums): one statement, one row per sync, nothing to combine in Python. A
window that needs only failed runs (the health score's last 3.5 days) is read instead
from one range of the failed runs' partial index, for every sync at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.models import BLOCK_BITS, BLOCK_DAYS, Sync, SyncRun, SyncRunBlock, SyncRunDay
from insights.reports.sql import duration_seconds, per_sync, unordered
from insights.reports.sums import halves

FINISHED = ("completed", "failed")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
SUMMED = ("completed", "failed", "duration_sum", "rows_high", "rows_low")
# A window at least this long reads its whole 16-day blocks (sync_run_blocks) and the days
# before the first; a shorter one reads its days (under 32 rows a sync: blocks gain nothing).
BLOCKED_FROM = timedelta(days=2 * BLOCK_DAYS)


def day_of(moment: datetime) -> int:
    """The UTC day of `moment` as days since 1970-01-01 (sync_run_days.day)."""
    return (moment - EPOCH) // DAY


class _Edge(NamedTuple):
    """How a window from a start is read: the rollups of the days after `after_day`, and
    the runs started in [low, high) added, or `subtracted` from the whole first day."""

    after_day: int
    low: datetime
    high: datetime
    subtracted: bool

    @property
    def first_block(self) -> int:
        """The first block wholly after `after_day` (its days start the block piece)."""
        return (self.after_day >> BLOCK_BITS) + 1

    @classmethod
    def of(cls, start: datetime) -> _Edge:
        day = day_of(start)
        midnight = EPOCH + day * DAY
        if start - midnight < DAY / 2:
            return cls(day - 1, midnight, start, True)
        return cls(day, start, midnight + DAY, False)


def _whole(total: ColumnElement[Any]) -> ColumnElement[Any]:
    """A sum as a bigint: PostgreSQL sums bigints into numeric, which the driver hands over
    as a Decimal per value. These sums are far inside a bigint: counts, seconds, and row
    counts in 32-bit halves."""
    return cast(total, BigInteger)


class Cutoff(NamedTuple):
    """A window from `start` (no upper bound) and which of SUMMED a report needs over it."""

    name: str
    start: datetime
    measures: tuple[str, ...] = SUMMED


FAILED_ONLY = ("failed",)


class WindowShape(NamedTuple):
    """What the SQL of with_window_sums depends on, values apart: a statement built for a
    shape serves every request of that shape with new parameters (window_parameters)."""

    sqlite: bool
    some_syncs: bool  # restricted to the bound list `sync_ids`
    # name, its start's number (of the rollup starts, or of the failed-only ones), measures
    cutoffs: tuple[tuple[str, int, tuple[str, ...]], ...]
    subtracted: tuple[bool, ...]  # per rollup start: its edge's runs are subtracted
    blocked: tuple[bool, ...]  # per rollup start: its whole blocks read from sync_run_blocks

    @classmethod
    def of(
        cls, session: Session, cutoffs: Sequence[Cutoff], some_syncs: bool, now: datetime
    ) -> WindowShape:
        starts = _rollup_starts(cutoffs)
        failed = _failed_starts(cutoffs)
        return cls(
            is_sqlite(session),
            some_syncs,
            tuple(
                (c.name, (failed if _failed_only(c) else starts).index(c.start), c.measures)
                for c in cutoffs
            ),
            tuple(_Edge.of(start).subtracted for start in starts),
            tuple(now - start >= BLOCKED_FROM for start in starts),
        )


def _failed_only(cutoff: Cutoff) -> bool:
    """A cutoff that needs only failed runs: counted in one range of the failed runs' index
    (a few percent of all runs), not from the rollups per sync."""
    return tuple(cutoff.measures) == FAILED_ONLY


def _rollup_starts(cutoffs: Sequence[Cutoff]) -> list[datetime]:
    return list(dict.fromkeys(c.start for c in cutoffs if not _failed_only(c)))


def _failed_starts(cutoffs: Sequence[Cutoff]) -> list[datetime]:
    return list(dict.fromkeys(c.start for c in cutoffs if _failed_only(c)))


def window_parameters(cutoffs: Sequence[Cutoff], failed_after: datetime) -> dict[str, Any]:
    """The bound values of with_window_sums' statement for these cutoffs."""
    values: dict[str, Any] = {}
    for number, start in enumerate(_rollup_starts(cutoffs)):
        edge = _Edge.of(start)
        values |= {f"after_{number}": edge.after_day, f"low_{number}": edge.low}
        values[f"high_{number}"] = edge.high
        values[f"first_block_{number}"] = edge.first_block
        values[f"head_before_{number}"] = edge.first_block << BLOCK_BITS
    failed = _failed_starts(cutoffs)
    for number, start in enumerate(failed):
        values[f"failed_from_{number}"] = start
    values["failed_scan_from"] = min([*failed, failed_after])
    values["failed_after"] = failed_after
    return values


def with_window_sums(query: Select[Any], shape: WindowShape) -> Select[Any]:
    """`query` (over syncs) with each cutoff's sums as columns `<name>_<measure>` (0 when
    there is none), and `late_failed`: the failed runs started after `failed_after`. Bound
    parameters: `workspace_id`, `sync_ids` when the shape has some, and those of
    window_parameters.

    Each piece is one aggregate per sync joined to the query's sync row (_joined), so a
    report gets one row per sync and nothing to combine in Python: per distinct start, the
    rollups of the days after its edge's day (for a long window, its days up to the first
    whole block and the blocks from there) and the runs of its partial day (one index range
    per sync each, summing only what some cutoff needs); and, for the cutoffs that need
    only failed runs and for `late_failed`, one range of the partial index of failed runs
    (a few percent of all runs) for every sync at once."""
    columns = []
    for number, subtracted in enumerate(shape.subtracted):
        cutoffs = [
            (name, measures)
            for name, start, measures in shape.cutoffs
            if start == number and measures != FAILED_ONLY
        ]
        needed = {measure for _, measures in cutoffs for measure in measures}
        started: tuple[Any, Any] = (bindparam(f"low_{number}"), bindparam(f"high_{number}"))
        after: Any = bindparam(f"after_{number}")
        if shape.blocked[number]:
            head = _day_piece(after, needed, bindparam(f"head_before_{number}"))
            blocks = _block_piece(bindparam(f"first_block_{number}"), needed)
            wholes = [(head, f"head_{number}"), (blocks, f"blocks_{number}")]
        else:
            wholes = [(_day_piece(after, needed), f"days_{number}")]
        pieces = []
        for piece, name in wholes:
            query, columns_of_piece = _joined(query, shape, piece, name)
            pieces.append(columns_of_piece)
        query, runs = _joined(query, shape, _run_piece(started, needed), f"runs_{number}")
        for name, measures in cutoffs:
            for measure in measures:
                whole = _sum_of(_zero(piece[measure]) for piece in pieces)
                part = _zero(runs[measure])
                total = whole - part if subtracted else whole + part
                columns.append(total.label(f"{name}_{measure}"))
    failed_only = [(name, n) for name, n, measures in shape.cutoffs if measures == FAILED_ONLY]
    failed = _failed_counts(shape, failed_only).subquery("failed_runs")
    query = query.join_from(Sync, failed, failed.c.sync_id == Sync.id, isouter=True)
    for name, _ in failed_only:
        columns.append(_zero(failed.c[name]).label(f"{name}_failed"))
    columns.append(_zero(failed.c.late).label("late_failed"))
    return query.add_columns(*columns)


def _failed_counts(shape: WindowShape, cutoffs: list[tuple[str, int]]) -> Select[Any]:
    """Per sync with failed runs since the earliest failed-only start (or `failed_after`):
    each of those cutoffs' failed runs, and `late`: those started after `failed_after`.
    One range of ix_sync_runs_failed; its condition is written here as a literal, as SQLite
    uses a partial index only for a query whose own terms imply the index's, and the group
    is `unordered` so that SQLite does not read the wide run index for its order instead."""
    started = SyncRun.started_at
    counts = [
        func.count(case((started >= bindparam(f"failed_from_{number}"), 1))).label(name)
        for name, number in cutoffs
    ]
    late = func.count(case((started > bindparam("failed_after"), 1))).label("late")
    query = select(SyncRun.sync_id, *counts, late).where(
        SyncRun.workspace_id == bindparam("workspace_id"),
        SyncRun.status == literal_column("'failed'"),
        started >= bindparam("failed_scan_from"),
    )
    if shape.some_syncs:
        query = query.where(SyncRun.sync_id.in_(bindparam("sync_ids", expanding=True)))
    return query.group_by(unordered(SyncRun.sync_id))


def _zero(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(column, 0)


class _Piece(NamedTuple):
    """One sync's aggregate `columns` over the rows of `table` matching `scanned` (which
    name the sync as Sync.workspace_id and Sync.id)."""

    columns: list[Any]
    scanned: tuple[ColumnElement[bool], ...]
    table: Any


def _joined(query: Select[Any], shape: WindowShape, piece: _Piece, name: str) -> tuple[Any, Any]:
    """`query` (over syncs) joined to `piece` for each sync, and the piece's columns. On
    SQLite the piece is a subquery grouped per sync (sql.per_sync) joined by the sync's ID;
    on PostgreSQL a LATERAL aggregate over the query's own sync row: one index range per
    sync, without a second pass over the syncs and a hash join per piece."""
    if shape.sqlite:
        grouped = _per_sync(shape, piece.columns, piece.scanned, piece.table).subquery(name)
        joined = query.join_from(Sync, grouped, grouped.c.sync_id == Sync.id, isouter=True)
        return joined, grouped.c
    lateral = select(*piece.columns).where(*piece.scanned).lateral(name)
    return query.join_from(Sync, lateral, true(), isouter=True), lateral.c


def _day_piece(after_day: Any, needed: set[str], before_day: Any = None) -> _Piece:
    """Per sync, the `needed` measures over the rollups of the days after `after_day` (and
    before `before_day`, if given)."""
    columns = [_whole(func.sum(getattr(SyncRunDay, m))).label(m) for m in sorted(needed)]
    scanned = [
        SyncRunDay.workspace_id == Sync.workspace_id,
        SyncRunDay.sync_id == Sync.id,
        SyncRunDay.day > after_day,
    ]
    if before_day is not None:
        scanned.append(SyncRunDay.day < before_day)
    return _Piece(columns, tuple(scanned), SyncRunDay)


def _block_piece(first_block: Any, needed: set[str]) -> _Piece:
    """Per sync, the `needed` measures over the blocks from `first_block` on."""
    columns = [_whole(func.sum(getattr(SyncRunBlock, m))).label(m) for m in sorted(needed)]
    scanned = (
        SyncRunBlock.workspace_id == Sync.workspace_id,
        SyncRunBlock.sync_id == Sync.id,
        SyncRunBlock.block >= first_block,
    )
    return _Piece(columns, scanned, SyncRunBlock)


def _sum_of(terms: Iterable[ColumnElement[Any]]) -> ColumnElement[Any]:
    """The SQL sum of one or more terms."""
    first, *rest = terms
    for term in rest:
        first = first + term
    return first


def _run_piece(started: tuple[Any, Any], needed: set[str]) -> _Piece:
    """Per sync, the `needed` measures over the finished runs started in [low, high)."""
    completed = SyncRun.status == "completed"
    rows_high, rows_low = halves(SyncRun.rows_created, SyncRun.rows_updated, SyncRun.rows_deleted)
    duration = duration_seconds(SyncRun.started_at, SyncRun.completed_at)
    terms: dict[str, Callable[[], ColumnElement[Any]]] = {
        "completed": lambda: func.count(case((completed, 1))),
        "failed": lambda: func.count(case((SyncRun.status == "failed", 1))),
        "duration_sum": lambda: func.sum(case((completed, duration), else_=0)),
        "rows_high": lambda: func.sum(case((completed, rows_high), else_=0)),
        "rows_low": lambda: func.sum(case((completed, rows_low), else_=0)),
    }
    low, high = started
    scanned = (
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.started_at >= low,
        SyncRun.started_at < high,
        SyncRun.status.in_(FINISHED),
    )
    columns = [_whole(terms[m]()).label(m) for m in sorted(needed)]
    return _Piece(columns, scanned, SyncRun)


def _per_sync(
    shape: WindowShape, columns: list[Any], scanned: tuple[ColumnElement[bool], ...], table: Any
) -> Select[Any]:
    """sql.per_sync with the statement's bound workspace and, in its shape, sync IDs."""
    sync_ids: Any = bindparam("sync_ids", expanding=True) if shape.some_syncs else None
    return per_sync(shape.sqlite, columns, scanned, table, bindparam("workspace_id"), sync_ids)
