"""syncs: SLA targets (a completed run at least every N minutes; none longer than N seconds)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("syncs") as batch:
        batch.add_column(sa.Column("sla_freshness_minutes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sla_duration_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("syncs") as batch:
        batch.drop_column("sla_duration_seconds")
        batch.drop_column("sla_freshness_minutes")
