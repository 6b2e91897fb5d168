"""PostgreSQL's run triggers find a sync's latest run by its index, even before ANALYZE

The state refresh of migration 0006 finds each sync's latest run (of a status) as the runs
of its latest start, the largest ID first: `... AND r.started_at = (SELECT max(...)) ORDER
BY r.id DESC LIMIT 1`. On a table without statistics (a new database until autovacuum first
analyzes it) PostgreSQL planned that as a backward scan of the primary key (workspace_id,
id), filtered on sync and start: every run of the workspace in ID order until one matched,
per statement. Inserting runs one statement each slowed from 0.6 to 2.5 s per thousand as
they grew (a 60,000-run load: 645 s). Here the runs of that second are fenced off in a
subquery (OFFSET 0), found by ix_sync_runs_window, and only they are sorted by ID: 0.33 s
per thousand from the first run, with or without statistics. Same rows, same order.

The trigger functions are rewritten from their stored definitions (as 0009 does SQLite's
triggers), each probe replaced by its fenced form and back on downgrade. SQLite plans the
probe by its index already: nothing changes there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 20:00:00.000000
"""

import re
from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each writes sync_states through 0006's probes (the rebuild too, after a bulk load).
FUNCTIONS = ("sync_rollups_insert", "sync_rollups_update", "sync_rollups_delete")
REBUILD = "sync_rollups_rebuild"
PROBES = 4  # last_status, last_finished_status, latest_completed_started and _at
# A probe's condition holds a subquery of its own (the max start) but no other probe.
_CONDITION = r"((?:(?!\(SELECT r\.).)*?)"
ORDERED = re.compile(
    rf"\(SELECT r\.(\w+) FROM sync_runs r WHERE {_CONDITION} ORDER BY r\.id DESC LIMIT 1\)"
)
FENCED = re.compile(
    rf"\(SELECT f\.v FROM \(SELECT r\.(\w+) AS v, r\.id FROM sync_runs r WHERE {_CONDITION}"
    r" OFFSET 0\) f ORDER BY f\.id DESC LIMIT 1\)"
)


def _fence(match: re.Match[str]) -> str:
    column, condition = match.groups()
    return (
        f"(SELECT f.v FROM (SELECT r.{column} AS v, r.id FROM sync_runs r WHERE {condition}"
        " OFFSET 0) f ORDER BY f.id DESC LIMIT 1)"
    )


def _unfence(match: re.Match[str]) -> str:
    column, condition = match.groups()
    return f"(SELECT r.{column} FROM sync_runs r WHERE {condition} ORDER BY r.id DESC LIMIT 1)"


def _rewrite(pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str]) -> None:
    bind = op.get_bind()
    for name in (*FUNCTIONS, REBUILD):
        signature = f"{name}(uuid)" if name == REBUILD else f"{name}()"
        definition = bind.exec_driver_sql(
            f"SELECT pg_get_functiondef('{signature}'::regprocedure)"
        ).scalar_one()
        rewritten, count = pattern.subn(replace, definition)
        if count != PROBES:
            raise RuntimeError(f"{name}: {count} latest-run probes found, {PROBES} expected")
        bind.exec_driver_sql(rewritten)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        _rewrite(ORDERED, _fence)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        _rewrite(FENCED, _unfence)
