"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 13:11:41.983462
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("next_member_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
    )
    op.create_table(
        "api_keys",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("key_prefix", sa.String(length=12), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_api_keys_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "destinations",
        sa.Column("destination_type", sa.String(length=255), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_destinations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_destinations")),
    )
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_destinations_workspace_id_created_at"),
            ["workspace_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "member_keys",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "key",
            sa.String(length=256).with_variant(sa.String(length=256, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("workspace_id", "member_id", name=op.f("pk_member_keys")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("member_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_keys_workspace_id_key"), ["workspace_id", "key"], unique=True
        )

    op.create_table(
        "sources",
        sa.Column("source_type", sa.String(length=255), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sources_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_sources")),
    )
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sources_workspace_id_created_at"),
            ["workspace_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "loaders",
        sa.Column("loader_type", sa.String(length=255), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("schedule", sa.String(length=255), nullable=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "source_id"],
            ["sources.workspace_id", "sources.id"],
            name=op.f("fk_loaders_workspace_id_source_id_sources"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_loaders_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_loaders")),
    )
    with op.batch_alter_table("loaders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loaders_workspace_id_created_at"),
            ["workspace_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_loaders_workspace_id_source_id"),
            ["workspace_id", "source_id"],
            unique=False,
        )

    op.create_table(
        "models",
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "source_id"],
            ["sources.workspace_id", "sources.id"],
            name=op.f("fk_models_workspace_id_source_id_sources"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_models_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_models")),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_models_workspace_id_created_at"),
            ["workspace_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_models_workspace_id_source_id"),
            ["workspace_id", "source_id"],
            unique=False,
        )

    op.create_table(
        "audiences",
        sa.Column("parent_model_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("estimated_size", sa.BigInteger(), nullable=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "parent_model_id"],
            ["models.workspace_id", "models.id"],
            name=op.f("fk_audiences_workspace_id_parent_model_id_models"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_audiences_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_audiences")),
    )
    with op.batch_alter_table("audiences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audiences_workspace_id_created_at"),
            ["workspace_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_audiences_workspace_id_parent_model_id"),
            ["workspace_id", "parent_model_id"],
            unique=False,
        )

    op.create_table(
        "loader_runs",
        sa.Column("loader_id", sa.Uuid(), nullable=False),
        sa.Column("rows_loaded", sa.BigInteger(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "loader_id"],
            ["loaders.workspace_id", "loaders.id"],
            name=op.f("fk_loader_runs_workspace_id_loader_id_loaders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_loader_runs")),
    )
    with op.batch_alter_table("loader_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loader_runs_workspace_id_completed_at"),
            ["workspace_id", "completed_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_loader_runs_workspace_id_loader_id_started_at"),
            ["workspace_id", "loader_id", "started_at"],
            unique=False,
        )

    op.create_table(
        "audience_evaluations",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("audience_id", sa.Uuid(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("has_members", sa.Boolean(), nullable=False),
        sa.Column("members_added", sa.BigInteger(), nullable=True),
        sa.Column("members_removed", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "audience_id"],
            ["audiences.workspace_id", "audiences.id"],
            name=op.f("fk_audience_evaluations_workspace_id_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_audience_evaluations")),
    )
    with op.batch_alter_table("audience_evaluations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audience_evaluations_workspace_id_audience_id_evaluated_at"),
            ["workspace_id", "audience_id", "evaluated_at"],
            unique=False,
        )

    op.create_table(
        "syncs",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=True),
        sa.Column("audience_id", sa.Uuid(), nullable=True),
        sa.Column("destination_id", sa.Uuid(), nullable=False),
        sa.Column("sync_mode", sa.String(length=64), nullable=True),
        sa.Column("schedule", sa.String(length=255), nullable=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "audience_id"],
            ["audiences.workspace_id", "audiences.id"],
            name=op.f("fk_syncs_workspace_id_audience_id_audiences"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "destination_id"],
            ["destinations.workspace_id", "destinations.id"],
            name=op.f("fk_syncs_workspace_id_destination_id_destinations"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "model_id"],
            ["models.workspace_id", "models.id"],
            name=op.f("fk_syncs_workspace_id_model_id_models"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_syncs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_syncs")),
    )
    with op.batch_alter_table("syncs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_syncs_workspace_id_audience_id"),
            ["workspace_id", "audience_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_syncs_workspace_id_destination_id"),
            ["workspace_id", "destination_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_syncs_workspace_id_kind_created_at"),
            ["workspace_id", "kind", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_syncs_workspace_id_model_id"), ["workspace_id", "model_id"], unique=False
        )

    op.create_table(
        "member_bitmaps",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("audience_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "evaluation_id"],
            ["audience_evaluations.workspace_id", "audience_evaluations.id"],
            name=op.f("fk_member_bitmaps_workspace_id_evaluation_id_audience_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "evaluation_id", name=op.f("pk_member_bitmaps")),
    )
    with op.batch_alter_table("member_bitmaps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_bitmaps_workspace_id_audience_id"),
            ["workspace_id", "audience_id"],
            unique=True,
        )

    op.create_table(
        "sync_runs",
        sa.Column("sync_id", sa.Uuid(), nullable=False),
        sa.Column("rows_processed", sa.BigInteger(), nullable=False),
        sa.Column("rows_created", sa.BigInteger(), nullable=False),
        sa.Column("rows_updated", sa.BigInteger(), nullable=False),
        sa.Column("rows_deleted", sa.BigInteger(), nullable=False),
        sa.Column("rows_failed", sa.BigInteger(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "sync_id"],
            ["syncs.workspace_id", "syncs.id"],
            name=op.f("fk_sync_runs_workspace_id_sync_id_syncs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_runs_workspace_id_completed_at"),
            ["workspace_id", "completed_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_sync_runs_window",
            [
                "workspace_id",
                "sync_id",
                "started_at",
                "status",
                "completed_at",
                "rows_created",
                "rows_updated",
                "rows_deleted",
            ],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sync_runs_workspace_id_sync_id_completed_at"),
            ["workspace_id", "sync_id", "completed_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_workspace_id_sync_id_completed_at"))
        batch_op.drop_index("ix_sync_runs_window")
        batch_op.drop_index(batch_op.f("ix_sync_runs_workspace_id_completed_at"))

    op.drop_table("sync_runs")
    with op.batch_alter_table("member_bitmaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_bitmaps_workspace_id_audience_id"))

    op.drop_table("member_bitmaps")
    with op.batch_alter_table("syncs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syncs_workspace_id_model_id"))
        batch_op.drop_index(batch_op.f("ix_syncs_workspace_id_kind_created_at"))
        batch_op.drop_index(batch_op.f("ix_syncs_workspace_id_destination_id"))
        batch_op.drop_index(batch_op.f("ix_syncs_workspace_id_audience_id"))

    op.drop_table("syncs")
    with op.batch_alter_table("audience_evaluations", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_audience_evaluations_workspace_id_audience_id_evaluated_at")
        )

    op.drop_table("audience_evaluations")
    with op.batch_alter_table("loader_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loader_runs_workspace_id_loader_id_started_at"))
        batch_op.drop_index(batch_op.f("ix_loader_runs_workspace_id_completed_at"))

    op.drop_table("loader_runs")
    with op.batch_alter_table("audiences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audiences_workspace_id_parent_model_id"))
        batch_op.drop_index(batch_op.f("ix_audiences_workspace_id_created_at"))

    op.drop_table("audiences")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_workspace_id_source_id"))
        batch_op.drop_index(batch_op.f("ix_models_workspace_id_created_at"))

    op.drop_table("models")
    with op.batch_alter_table("loaders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loaders_workspace_id_source_id"))
        batch_op.drop_index(batch_op.f("ix_loaders_workspace_id_created_at"))

    op.drop_table("loaders")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sources_workspace_id_created_at"))

    op.drop_table("sources")
    with op.batch_alter_table("member_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_keys_workspace_id_key"))

    op.drop_table("member_keys")
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_destinations_workspace_id_created_at"))

    op.drop_table("destinations")
    op.drop_table("api_keys")
    op.drop_table("workspaces")
