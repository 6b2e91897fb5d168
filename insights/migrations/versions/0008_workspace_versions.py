"""workspace_versions: a data version per workspace, for the caches of report answers

One row per workspace, bumped in the same transaction as every write that can change what a
report of the workspace answers (insights.data_version). Every existing workspace starts at 0,
which is also what a workspace without a row reads as.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_versions",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_versions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_workspace_versions")),
    )
    op.execute(
        "INSERT INTO workspace_versions (workspace_id, version) SELECT id, 0 FROM workspaces"
    )


def downgrade() -> None:
    op.drop_table("workspace_versions")
