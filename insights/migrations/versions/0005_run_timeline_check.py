"""sync_runs, loader_runs: the database refuses a run whose status and times disagree

Until now only the service checked the rule (a finished run has completed_at, not before
started_at; an unfinished one has none), and two updates racing each other could each pass
it alone and together leave a row that breaks it. Such rows are repaired first: a run with
an unfinished status and a completion time had finished (only a finished run gets one), so
it becomes failed when it carries an error, else completed; a finished run without one gets
its last update's time; a completion before the start moves to the start.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("sync_runs", "loader_runs")
# insights.models.RUN_TIMELINE as it was at this revision.
RUN_TIMELINE = (
    "(status IN ('queued', 'running') AND completed_at IS NULL)"
    " OR (status IN ('completed', 'failed', 'cancelled')"
    " AND completed_at IS NOT NULL AND completed_at >= started_at)"
)
REPAIRS = (
    "UPDATE {table} SET status = CASE WHEN error IS NULL THEN 'completed' ELSE 'failed' END"
    " WHERE status IN ('queued', 'running') AND completed_at IS NOT NULL",
    "UPDATE {table} SET completed_at"
    " = CASE WHEN updated_at > started_at THEN updated_at ELSE started_at END"
    " WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at IS NULL",
    "UPDATE {table} SET completed_at = started_at WHERE completed_at < started_at",
)


def upgrade() -> None:
    for table in TABLES:
        for repair in REPAIRS:
            op.execute(repair.format(table=table))
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(op.f(f"ck_{table}_timeline"), RUN_TIMELINE)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_timeline"), type_="check")
