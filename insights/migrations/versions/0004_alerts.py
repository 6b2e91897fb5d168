"""alerts: rules, the alerts they open, and the outbox of their notifications

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("condition", sa.String(length=32), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("sync_ids", sa.JSON(), nullable=True),
        sa.Column("audience_ids", sa.JSON(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("channel_type", sa.String(length=16), nullable=False),
        sa.Column("channel_url", sa.String(length=2048), nullable=False),
        sa.Column("channel_secret", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_alert_rules_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_alert_rules")),
    )
    op.create_index(
        op.f("ix_alert_rules_workspace_id_created_at"),
        "alert_rules",
        ["workspace_id", "created_at"],
    )
    op.create_table(
        "alerts",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("rule_name", sa.String(length=255), nullable=False),
        sa.Column("condition", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("subject_name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_alerts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_alerts")),
    )
    op.create_index(
        op.f("ix_alerts_workspace_id_opened_at"), "alerts", ["workspace_id", "opened_at"]
    )
    op.create_index(
        op.f("ix_alerts_workspace_id_rule_id_state"),
        "alerts",
        ["workspace_id", "rule_id", "state"],
    )
    op.create_index(
        "uq_alerts_firing",
        "alerts",
        ["workspace_id", "rule_id", "subject_id"],
        unique=True,
        sqlite_where=sa.text("state = 'firing'"),
        postgresql_where=sa.text("state = 'firing'"),
    )
    op.create_table(
        "alert_notifications",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("channel_type", sa.String(length=16), nullable=False),
        sa.Column("channel_url", sa.String(length=2048), nullable=False),
        sa.Column("channel_secret", sa.String(length=255), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "alert_id"],
            ["alerts.workspace_id", "alerts.id"],
            name=op.f("fk_alert_notifications_workspace_id_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_alert_notifications")),
    )
    op.create_index(
        op.f("ix_alert_notifications_status_next_attempt_at"),
        "alert_notifications",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        op.f("ix_alert_notifications_workspace_id_alert_id_created_at"),
        "alert_notifications",
        ["workspace_id", "alert_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_table("alert_notifications")
    op.drop_table("alerts")
    op.drop_table("alert_rules")
