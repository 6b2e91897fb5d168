"""workspaces.member_key_count: the size of the workspace's key dictionary, stored

The check for unused dictionary keys after every upload counted the workspace's member_keys
rows: 0.6 s (SQLite) to 1.3 s (PostgreSQL) at 10M keys, however small the upload. The count
is now kept beside next_member_id, under the same lock, by the code that adds and deletes
keys; this fills it in from the rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("member_key_count", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE workspaces SET member_key_count ="
        " (SELECT count(*) FROM member_keys WHERE member_keys.workspace_id = workspaces.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("member_key_count")
