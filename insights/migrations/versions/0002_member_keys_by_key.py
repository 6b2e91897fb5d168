"""member_keys: one B-tree, keyed by (workspace_id, key)

The dictionary had a primary key on (workspace_id, member_id) and a unique index on
(workspace_id, key); every lookup is by key, so the second B-tree only cost a write per new
key. SQLite cannot change a WITHOUT ROWID table's key in place, so it gets a new table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_TYPE = sa.String(length=256).with_variant(sa.String(length=256, collation="C"), "postgresql")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(["workspace_id", "key"], unique_key_index=False)
        return
    op.drop_index("ix_member_keys_workspace_id_key", table_name="member_keys")
    op.drop_constraint("pk_member_keys", "member_keys", type_="primary")
    op.create_primary_key("pk_member_keys", "member_keys", ["workspace_id", "key"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(["workspace_id", "member_id"], unique_key_index=True)
        return
    op.drop_constraint("pk_member_keys", "member_keys", type_="primary")
    op.create_primary_key("pk_member_keys", "member_keys", ["workspace_id", "member_id"])
    op.create_index(
        "ix_member_keys_workspace_id_key", "member_keys", ["workspace_id", "key"], unique=True
    )


def _rebuild_sqlite(primary_key: list[str], unique_key_index: bool) -> None:
    op.create_table(
        "member_keys_rebuilt",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key", KEY_TYPE, nullable=False),
        sa.PrimaryKeyConstraint(*primary_key, name="pk_member_keys"),
        sqlite_with_rowid=False,
    )
    order = ", ".join(primary_key)  # rows go in in the new key's order: one sequential sweep
    op.execute(
        "INSERT INTO member_keys_rebuilt (workspace_id, member_id, key)"
        f" SELECT workspace_id, member_id, key FROM member_keys ORDER BY {order}"
    )
    op.drop_table("member_keys")
    op.rename_table("member_keys_rebuilt", "member_keys")
    if unique_key_index:
        op.create_index(
            "ix_member_keys_workspace_id_key", "member_keys", ["workspace_id", "key"], unique=True
        )
