"""The runs' (workspace, sync, completed_at) index gains status before completed_at

sync-sla reads each sync's completion times of a window. By (workspace, sync, completed_at)
that was one range per sync, but every entry cost a visit to the table for the run's status
(a failed run has a completion time too): ~95 ms for the 55,000 completions of a 30-day
window at 1M runs on SQLite. With status in the key the completed runs of a sync are one
range of the index alone (~15 ms). The index's other readers, the state triggers' latest
success (completed, by completed_at descending) and the foreign key's (workspace, sync),
are served as well by the new one, so it replaces the old rather than joining it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = (
    "ix_sync_runs_workspace_id_sync_id_completed_at",
    ["workspace_id", "sync_id", "completed_at"],
)
NEW = (
    "ix_sync_runs_workspace_id_sync_id_status_completed_at",
    ["workspace_id", "sync_id", "status", "completed_at"],
)


def _replace(old: tuple[str, list[str]], new: tuple[str, list[str]]) -> None:
    op.create_index(new[0], "sync_runs", new[1])
    op.drop_index(old[0], table_name="sync_runs")


def upgrade() -> None:
    _replace(OLD, NEW)


def downgrade() -> None:
    _replace(NEW, OLD)
