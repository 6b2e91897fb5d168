"""The SQL the reports need that the two databases spell differently: exact durations,
epochs, a timestamp minus days, and a group's integers as one list. Each is a function
element compiled per dialect, so report queries are written once. Also a UUID column as
each driver hands it over (driver_id), and an aggregate per sync in the form each
database's planner reads as one index range per sync (per_sync), and PostgreSQL told to plan
a statement for its values (unprepared)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Label,
    Select,
    String,
    Text,
    and_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from insights.db import is_sqlite
from insights.models import Sync


@contextmanager
def unprepared(session: Session) -> Iterator[None]:
    """PostgreSQL plans the statements run inside for their values each time: the driver
    does not prepare them. A statement it prepares (after five runs on a connection) is
    planned, after five more, once for any values; where the values decide how much of a
    range is read, that generic plan can be the wrong one (audience-trends' year of
    evaluations: a scan of the table and a sort, 52 ms, against the history index alone,
    16 ms; from the eleventh request on a connection, 73 -> 106 ms). SQLite plans every
    statement alike."""
    if is_sqlite(session):
        yield
        return
    driver: Any = session.connection().connection.driver_connection
    threshold = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


def driver_id(column: Any) -> ColumnElement[Any]:
    """A UUID column as the driver hands it over (SQLite: 32 hex digits; PostgreSQL: a
    UUID), without SQLAlchemy building a UUID per row: a key to match with the same
    expression in another query of one request, never an ID to show."""
    return type_coerce(column, String)


class duration_seconds(FunctionElement[int]):  # lowercase: it reads as an SQL function
    """SQL: seconds from the first timestamp argument to the second, exactly.

    The one dialect difference the reports need. Its sums come back as int on SQLite and
    Decimal on PostgreSQL; the type does no conversion, so neither goes through a float."""

    type = BigInteger()
    inherit_cache = True
    name = "duration_seconds"


@compiles(duration_seconds)
def _duration_postgresql(element: duration_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS BIGINT)"


@compiles(duration_seconds, "sqlite")
def _duration_sqlite(element: duration_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # unixepoch() (SQLite 3.38+) gives whole seconds, exact for the whole-second timestamps
    # the service stores, and is about twice as fast as strftime('%s'); julianday()
    # arithmetic would go through a float.
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(unixepoch({end}) - unixepoch({start}))"


class days_before(FunctionElement[datetime]):  # lowercase: it reads as an SQL function
    """SQL: the timestamp argument minus a whole number of days (a literal)."""

    inherit_cache = True
    name = "days_before"


@compiles(days_before)
def _days_before_postgresql(element: days_before, compiler: SQLCompiler, **kw: Any) -> str:
    moment, days = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({moment} - make_interval(days => {days}))"


@compiles(days_before, "sqlite")
def _days_before_sqlite(element: days_before, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored timestamps are 'YYYY-MM-DD HH:MM:SS.ffffff' text; datetime() drops the
    # fraction, and the shorter text sorts first, so >= keeps the boundary second.
    moment, days = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"datetime({moment}, '-' || {days} || ' days')"


class epoch_seconds(FunctionElement[int]):  # lowercase: it reads as an SQL function
    """SQL: a stored (whole-second, UTC) timestamp as seconds since 1970, an integer."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds)
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"unixepoch({compiler.process(element.clauses, **kw)})"


class int_list(FunctionElement[str]):  # lowercase: it reads as an SQL function
    """SQL aggregate: a group's integer values as one comma-separated text, in no
    particular order (parse_int_lists reads many at once)."""

    type = Text()
    inherit_cache = True
    name = "int_list"


@compiles(int_list)
def _int_list_postgresql(element: int_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"


@compiles(int_list, "sqlite")
def _int_list_sqlite(element: int_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)})"


def parse_int_lists(lists: Sequence[str | None]) -> list[NDArray[np.int64]]:
    """The integers of many int_list texts, parsed in one numpy pass (not one per list)."""
    counts = [0 if text is None else text.count(",") + 1 for text in lists]
    joined = ",".join(text for text in lists if text)
    values = np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.empty(0, np.int64)
    return np.split(values, np.cumsum(counts)[:-1]) if lists else []


class whole_days(FunctionElement[int]):  # lowercase: it reads as an SQL function
    """SQL: a non-negative number of seconds in whole days (integer division)."""

    type = BigInteger()
    inherit_cache = True
    name = "whole_days"


@compiles(whole_days)
def _whole_days(element: whole_days, compiler: SQLCompiler, **kw: Any) -> str:
    # Both databases divide integers by an integer without a remainder.
    return f"(({compiler.process(element.clauses, **kw)}) / 86400)"


class day_number(FunctionElement[int]):  # lowercase: it reads as an SQL function
    """SQL: the UTC day of a stored timestamp, as days since 1970-01-01 (rounded down), the
    `day` of sync_run_days (migration 0006 computes it the same way)."""

    type = BigInteger()
    inherit_cache = True
    name = "day_number"


@compiles(day_number)
def _day_number_postgresql(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"CAST(floor(EXTRACT(EPOCH FROM {moment}) / 86400) AS BIGINT)"


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    epoch = f"unixepoch({compiler.process(element.clauses, **kw)})"
    return f"(({epoch} - ((({epoch} % 86400) + 86400) % 86400)) / 86400)"


class day_start(FunctionElement[datetime]):  # lowercase: it reads as an SQL function
    """SQL: midnight (UTC) that starts the day of a timestamp, plus a whole number of days
    (a literal: 0 for the same day, 1 for the next)."""

    inherit_cache = True
    name = "day_start"


@compiles(day_start)
def _day_start_postgresql(element: day_start, compiler: SQLCompiler, **kw: Any) -> str:
    moment, days = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(date_trunc('day', {moment}) + make_interval(days => {days}))"


@compiles(day_start, "sqlite")
def _day_start_sqlite(element: day_start, compiler: SQLCompiler, **kw: Any) -> str:
    # Text without a fraction: sorts before the stored 'YYYY-MM-DD 00:00:00.000000' of the
    # same second, so >= and < keep their meaning (as in days_before).
    moment, days = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"datetime({moment}, 'start of day', '+' || {days} || ' days')"


class unordered(FunctionElement[Any]):  # lowercase: it reads as an SQL function
    """SQL: the column argument as is; on SQLite `+column`, which keeps the planner from
    reading another index for the column's order. A GROUP BY over a narrow range of a
    partial index is cheaper sorted than read in a wide index's order (the failed runs of
    a week for the health score: 3 ms against 220)."""

    inherit_cache = True
    name = "unordered"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unordered)
def _unordered(element: unordered, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return str(compiler.process(column, **kw))


@compiles(unordered, "sqlite")
def _unordered_sqlite(element: unordered, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"+{compiler.process(column, **kw)}"


def per_sync(
    sqlite: bool,
    columns: Sequence[Any],
    scanned: Sequence[ColumnElement[bool]],
    table: Any,
    workspace_id: Any,
    sync_ids: Any | None = None,
    key: Any = Sync.id,
) -> Select[Any]:
    """`columns` (aggregates) per sync of the workspace, keyed `sync_id` (its `key`, the ID
    or driver_id(Sync.id)), over the rows of `table` matching `scanned`; only the syncs of
    `sync_ids` (a list, or an expanding bound parameter) when given. `workspace_id` may be
    a value or a bound parameter.

    Both forms loop over the syncs and range-scan each one's index entries. SQLite picks
    that plan for a join; PostgreSQL would hash-join a full scan, so it gets LATERAL (whose
    columns need names: an unnamed one is called c0, c1, ...)."""
    if sqlite:
        query = select(key.label("sync_id"), *columns).join(table, and_(*scanned))
        query = query.group_by(Sync.id)
    else:
        named = [
            column if isinstance(column, Label) else column.label(f"c{number}")
            for number, column in enumerate(columns)
        ]
        lateral = select(*named).where(*scanned).lateral()
        query = select(key.label("sync_id"), *lateral.c).join(lateral, true())
    query = query.where(Sync.workspace_id == workspace_id)
    return query if sync_ids is None else query.where(Sync.id.in_(sync_ids))
