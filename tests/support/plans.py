"""SQLite's plan of a statement a report runs, for the tests of how reports read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event

from tests.support.databases import Database

T = TypeVar("T")


def sqlite_plan(
    db: Database, matches: Callable[[str], bool], run: Callable[[], T]
) -> tuple[T, list[str]]:
    """What `run` returns, and the details of SQLite's plan (EXPLAIN QUERY PLAN, in order)
    of the one statement it executes that `matches`, with the parameters it ran with."""
    statements: list[tuple[str, Any]] = []

    def caught(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if matches(statement):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", caught)
    try:
        result = run()
    finally:
        event.remove(db.engine, "before_cursor_execute", caught)
    ((statement, parameters),) = statements
    with db.engine.connect() as connection:
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return result, [row[-1] for row in plan]
