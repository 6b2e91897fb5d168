"""sync_run_days clustered by its key on SQLite (WITHOUT ROWID)

A window's rollups are every day of every sync after a cutoff: each sync's days are one run
of its primary key. As a rowid table, SQLite read each of them twice (the key's index, then
the row by rowid); clustered, the key's B-tree holds the sums beside it. Measured on the
1,000-sync benchmark workspace: a 90-day scan 44-55 ms -> 15 ms.

The table is rebuilt (SQLite cannot change a table's kind in place); the triggers of
migration 0006 write it by name, so they are dropped first and created again, unchanged,
from their stored SQL. PostgreSQL has no such kind of table: nothing changes there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMMED = ("completed", "failed", "duration_sum", "rows_high", "rows_low")
COLUMNS = ("workspace_id", "sync_id", "day", *SUMMED)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(with_rowid=True)


def _rebuild(with_rowid: bool) -> None:
    bind = op.get_bind()
    triggers = bind.execute(
        sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = 'sync_runs' AND name LIKE 'sync_rollups_%'"
        )
    ).all()
    for name, _ in triggers:
        op.execute(f"DROP TRIGGER {name}")
    op.create_table(
        "sync_run_days_rebuilt",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("sync_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.BigInteger(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in SUMMED),
        sa.ForeignKeyConstraint(
            ["workspace_id", "sync_id"],
            ["syncs.workspace_id", "syncs.id"],
            name=op.f("fk_sync_run_days_workspace_id_sync_id_syncs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "sync_id", "day", name=op.f("pk_sync_run_days")),
        sqlite_with_rowid=with_rowid,
    )
    columns = ", ".join(COLUMNS)
    op.execute(
        f"INSERT INTO sync_run_days_rebuilt ({columns}) SELECT {columns} FROM sync_run_days"
        " ORDER BY workspace_id, sync_id, day"
    )
    op.drop_table("sync_run_days")
    op.rename_table("sync_run_days_rebuilt", "sync_run_days")
    for _, sql in triggers:
        op.execute(sql)
