"""ix_sync_runs_failed: the failed runs alone, by workspace and start

The health score counts each sync's failed runs of the last 7 and 3.5 days and those
started after now. Read from the rollups, that was two probes per sync (the days, then the
runs of the partial first day) and a third for after now; from this partial index it is one
range for every sync at once, over a few percent of the runs. Only failed runs are written
to it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAILED = sa.text("status = 'failed'")


def upgrade() -> None:
    op.create_index(
        "ix_sync_runs_failed",
        "sync_runs",
        ["workspace_id", "started_at", "sync_id"],
        sqlite_where=FAILED,
        postgresql_where=FAILED,
    )


def downgrade() -> None:
    op.drop_index("ix_sync_runs_failed", table_name="sync_runs")
