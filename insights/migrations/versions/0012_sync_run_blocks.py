"""sync_run_blocks: the day rollups summed over blocks of 16 days

A window of N days read from sync_run_days is N rows per sync: a year is 365,000 rows for
1,000 syncs, and a 90-day window was over half of sync-health's time. Each sync's days
summed per block (block = day >> 4, 16 days) let a window read its whole blocks and at
most 15 days at its head: about 38 rows per sync for a year, 13 for 90 days.

Kept by triggers on sync_run_days itself, not on the runs: whatever writes a day (the run
table's triggers of migration 0006, a bulk load's rebuild) moves its block in the same
statement, so the two cannot disagree. SQLite's triggers work row by row; PostgreSQL's once
per statement over its transition tables (an insert ... on conflict do update fires both the
insert trigger, which sees the rows it inserted, and the update trigger, which sees the
rows it updated). A deleted day is taken out of its block by an update, never an insert: a
sync being deleted cascades to its days and blocks in either order. Writers of one sync
already wait for each other on its state row (0006), so blocks change in their order.
Read by insights/reports/run_totals.py.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMMED = ("completed", "failed", "duration_sum", "rows_high", "rows_low")
KEYS = "workspace_id, sync_id, block"
BITS = 4  # insights.models.BLOCK_BITS
EVENTS = ("insert", "update", "delete")


def _sum_into_blocks(select: str) -> str:
    """Add `select`'s rows (keys, then SUMMED) to their blocks, creating those missing."""
    added = ", ".join(f"{name} = sync_run_blocks.{name} + excluded.{name}" for name in SUMMED)
    return (
        f"INSERT INTO sync_run_blocks ({KEYS}, {', '.join(SUMMED)}) {select}"
        f" ON CONFLICT ({KEYS}) DO UPDATE SET {added}"
    )


def _take_from_block(old: str) -> str:
    """The SQLite statement taking row `old`'s sums from its existing block."""
    moved = ", ".join(f"{name} = {name} - {old}.{name}" for name in SUMMED)
    return (
        f"UPDATE sync_run_blocks SET {moved} WHERE workspace_id = {old}.workspace_id"
        f" AND sync_id = {old}.sync_id AND block = {old}.day >> {BITS}"
    )


def _create_sqlite_triggers() -> None:
    values = ", ".join(f"NEW.{name}" for name in SUMMED)
    add_new = _sum_into_blocks(
        f"SELECT NEW.workspace_id, NEW.sync_id, NEW.day >> {BITS}, {values} WHERE true"
    )
    same_key = " AND ".join(f"OLD.{key} IS NEW.{key}" for key in ("workspace_id", "sync_id", "day"))
    # The usual update: a day's sums change in place, so its block changes by the difference.
    delta = ", ".join(f"{name} = {name} + NEW.{name} - OLD.{name}" for name in SUMMED)
    op.execute(
        f"CREATE TRIGGER sync_run_blocks_insert AFTER INSERT ON sync_run_days BEGIN {add_new}; END"
    )
    op.execute(
        f"CREATE TRIGGER sync_run_blocks_update AFTER UPDATE ON sync_run_days WHEN {same_key}"
        f" BEGIN UPDATE sync_run_blocks SET {delta} WHERE workspace_id = NEW.workspace_id"
        f" AND sync_id = NEW.sync_id AND block = NEW.day >> {BITS}; END"
    )
    op.execute(
        "CREATE TRIGGER sync_run_blocks_move AFTER UPDATE ON sync_run_days"
        f" WHEN NOT ({same_key}) BEGIN {_take_from_block('OLD')}; {add_new}; END"
    )
    op.execute(
        "CREATE TRIGGER sync_run_blocks_delete AFTER DELETE ON sync_run_days"
        f" BEGIN {_take_from_block('OLD')}; END"
    )


def _blocks_of(table: str, sign: str = "") -> str:
    """A transition table's rows as (keys, SUMMED) of their blocks, `sign` applied."""
    sums = ", ".join(f"{sign}{name} AS {name}" for name in SUMMED)
    return f"SELECT workspace_id, sync_id, day >> {BITS} AS block, {sums} FROM {table}"


def _grouped(rows: str) -> str:
    sums = ", ".join(f"sum({name}) AS {name}" for name in SUMMED)
    return f"SELECT {KEYS}, {sums} FROM ({rows}) r GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"


def _postgresql_bodies() -> dict[str, str]:
    moved = ", ".join(f"{name} = b.{name} - o.{name}" for name in SUMMED)
    return {
        "insert": _sum_into_blocks(_grouped(_blocks_of("new_days"))),
        "update": _sum_into_blocks(
            _grouped(f"{_blocks_of('new_days')} UNION ALL {_blocks_of('old_days', '-')}")
        ),
        "delete": (
            f"UPDATE sync_run_blocks b SET {moved} FROM ({_grouped(_blocks_of('old_days'))}) o"
            " WHERE b.workspace_id = o.workspace_id AND b.sync_id = o.sync_id"
            " AND b.block = o.block"
        ),
    }


def _create_postgresql_triggers() -> None:
    referencing = {
        "insert": "REFERENCING NEW TABLE AS new_days",
        "update": "REFERENCING OLD TABLE AS old_days NEW TABLE AS new_days",
        "delete": "REFERENCING OLD TABLE AS old_days",
    }
    for event, body in _postgresql_bodies().items():
        op.execute(
            f"CREATE FUNCTION sync_run_blocks_{event}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n    {body};\n    RETURN NULL;\nEND\n$$"
        )
        op.execute(
            f"CREATE TRIGGER sync_run_blocks_{event} AFTER {event.upper()} ON sync_run_days"
            f" {referencing[event]} FOR EACH STATEMENT EXECUTE FUNCTION sync_run_blocks_{event}()"
        )


def upgrade() -> None:
    op.create_table(
        "sync_run_blocks",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("sync_id", sa.Uuid(), nullable=False),
        sa.Column("block", sa.BigInteger(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in SUMMED),
        sa.ForeignKeyConstraint(
            ["workspace_id", "sync_id"],
            ["syncs.workspace_id", "syncs.id"],
            name=op.f("fk_sync_run_blocks_workspace_id_sync_id_syncs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "sync_id", "block", name=op.f("pk_sync_run_blocks")
        ),
        sqlite_with_rowid=False,
    )
    sums = ", ".join(f"sum({name})" for name in SUMMED)
    op.execute(
        f"INSERT INTO sync_run_blocks ({KEYS}, {', '.join(SUMMED)})"
        f" SELECT workspace_id, sync_id, day >> {BITS}, {sums} FROM sync_run_days"
        " GROUP BY 1, 2, 3"
    )
    if op.get_bind().dialect.name == "sqlite":
        _create_sqlite_triggers()
    else:
        _create_postgresql_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in (*EVENTS, "move"):
            op.execute(f"DROP TRIGGER sync_run_blocks_{name}")
    else:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER sync_run_blocks_{event} ON sync_run_days")
            op.execute(f"DROP FUNCTION sync_run_blocks_{event}()")
    op.drop_table("sync_run_blocks")
