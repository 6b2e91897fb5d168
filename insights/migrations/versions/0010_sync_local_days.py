"""sync_local_days: each sync's completed runs per calendar day in the workspace's zone, kept
by triggers on sync_runs, with the zone's UTC offsets the triggers need

sync-duration and sync-throughput (contract 8.2, 8.3) answer per local date and need every
duration of the window (exact nearest-rank percentiles), so 0006's UTC days cannot serve
them. Here each (sync, local day) keeps its completed runs' count, duration sum and maximum,
every duration (text), and the count and rows of those that took time. A trigger finds a
run's local day without a time-zone library (SQLite has none): workspace_utc_offsets holds
the zone as pieces of constant offset (insights.zones writes them when a workspace is made
or its zone changes), one index probe away. Each write recomputes the days it touches from
their runs (the sync_runs(workspace_id, sync_id, started_at) index, one local day at a time:
a sum can be taken back, a maximum and a list of durations cannot); SQLite's triggers row
by row, PostgreSQL's once per statement over its transition tables. On PostgreSQL the
trigger first locks the syncs' sync_states rows in key order, exactly as 0006's does (and
creates them if 0006's has not yet: triggers fire in name order, and this one's name sorts
first), so two writers of one sync queue there and the later one reads the earlier one's
runs; then it reads the workspaces' workspace_zones rows FOR SHARE, so that a zone change
(which updates that row, then rebuilds the workspace's days from its runs in a trigger on
it) waits for the run writes in flight and the writes after it wait for the zone change.
Both tables are backfilled here, and sync_local_days_rebuild(ws) serves insights.db.bulk_runs.
Read by insights/reports/local_days.py.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from insights.zones import zone_pieces

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MASK = "4294967295"  # the low 32 bits
COLUMNS = (
    "workspace_id",
    "sync_id",
    "day",
    "runs",
    "duration_sum",
    "duration_max",
    "durations",
    "timed_runs",
    "timed_rows_high",
    "timed_rows_low",
)
# What an update must change for a local day to move (else nothing to do).
WATCHED = (
    "sync_id",
    "status",
    "started_at",
    "completed_at",
    "rows_created",
    "rows_updated",
    "rows_deleted",
)
EVENTS = ("insert", "update", "delete")


class Sql:
    """The few expressions the two databases spell differently."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def epoch(self, moment: str) -> str:
        if self.sqlite:
            return f"unixepoch({moment})"
        return f"CAST(floor(EXTRACT(EPOCH FROM {moment})) AS BIGINT)"

    def moment(self, epoch: str) -> str:
        """The stored timestamp of epoch seconds (SQLite: text without a fraction, which
        sorts before a stored timestamp of the same second, so >= and < keep their
        meaning)."""
        if self.sqlite:
            return f"datetime({epoch}, 'unixepoch')"
        return f"(TIMESTAMP '1970-01-01' + make_interval(secs => {epoch}))"

    def duration(self, run: str) -> str:
        start, end = f"{run}.started_at", f"{run}.completed_at"
        if self.sqlite:
            return f"(unixepoch({end}) - unixepoch({start}))"
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS BIGINT)"

    def text_list(self, value: str) -> str:
        if self.sqlite:
            return f"group_concat({value})"
        return f"string_agg(CAST({value} AS TEXT), ',')"

    def local_day(self, workspace: str, moment: str) -> str:
        """Days since 1970-01-01 of `moment`'s local time: one probe for its offset piece
        (UTC days for a workspace whose pieces are missing)."""
        epoch = self.epoch(moment)
        probe = (
            f"(SELECT {_days(f'{epoch} + piece.offset_seconds')} FROM workspace_utc_offsets piece"
            f" WHERE piece.workspace_id = {workspace} AND piece.begins <= {epoch}"
            " ORDER BY piece.begins DESC LIMIT 1)"
        )
        return f"coalesce({probe}, {_days(epoch)})"


def _days(seconds: str) -> str:
    """Whole days in a number of seconds, rounded down (also below 0)."""
    return f"(({seconds}) - (((({seconds}) % 86400) + 86400) % 86400)) / 86400"


def _sums(sql: Sql, run: str) -> str:
    """A group of completed runs' columns after (workspace_id, sync_id, day)."""
    duration = sql.duration(run)
    counts = [f"{run}.{column}" for column in ("rows_created", "rows_updated", "rows_deleted")]

    def if_timed(value: str) -> str:
        return f"sum(CASE WHEN {duration} > 0 THEN {value} ELSE 0 END)"

    return ", ".join(
        [
            "count(*)",
            f"sum({duration})",
            f"max({duration})",
            sql.text_list(duration),
            if_timed("1"),
            if_timed(" + ".join(f"({count} >> 32)" for count in counts)),
            if_timed(" + ".join(f"({count} & {MASK})" for count in counts)),
        ]
    )


def _recomputed(sql: Sql, groups: str) -> list[str]:
    """Statements that make the (workspace_id, sync_id, day) rows of `groups` (a query of
    ws, sync, day) again from their completed runs: a local day's runs start within
    [its midnight - the zone's greatest offset, the next midnight - its least), each checked
    by its own offset. No row for a sync that is gone (a sync's delete cascades to its days
    and its runs in either order)."""
    keys = "workspace_id, sync_id, day"
    low = sql.moment("g.day * 86400 - coalesce(z.max_offset, 0)")
    high = sql.moment("(g.day + 1) * 86400 - coalesce(z.min_offset, 0)")
    return [
        f"DELETE FROM sync_local_days WHERE ({keys}) IN (SELECT ws, sync, day FROM ({groups}) q)",
        f"INSERT INTO sync_local_days ({', '.join(COLUMNS)})"
        f" SELECT g.ws, g.sync, g.day, {_sums(sql, 'r')} FROM ({groups}) g"
        " JOIN syncs s ON s.workspace_id = g.ws AND s.id = g.sync"
        " LEFT JOIN workspace_zones z ON z.workspace_id = g.ws"
        " JOIN sync_runs r ON r.workspace_id = g.ws AND r.sync_id = g.sync"
        f" AND r.status = 'completed' AND r.started_at >= {low} AND r.started_at < {high}"
        f" WHERE {sql.local_day('r.workspace_id', 'r.started_at')} = g.day"
        " GROUP BY g.ws, g.sync, g.day",
    ]


def _rebuilt(sql: Sql, scope: str) -> str:
    """The rows of the completed runs matching `scope` (a condition on workspace_id) from
    nothing: the backfill, a zone change, a bulk load."""
    day = sql.local_day("r.workspace_id", "r.started_at")
    return (
        f"INSERT INTO sync_local_days ({', '.join(COLUMNS)})"
        f" SELECT r.workspace_id, r.sync_id, {day}, {_sums(sql, 'r')} FROM sync_runs r"
        f" WHERE r.{scope} AND r.status = 'completed' GROUP BY 1, 2, 3"
    )


def _group(sql: Sql, run: str, source: str = "", condition: str = "") -> str:
    """The (ws, sync, day) of the completed `run` (NEW, OLD or an alias in `source`)."""
    day = sql.local_day(f"{run}.workspace_id", f"{run}.started_at")
    return (
        f"SELECT {run}.workspace_id AS ws, {run}.sync_id AS sync, {day} AS day{source}"
        f" WHERE {run}.status = 'completed'{condition}"
    )


def _added(sql: Sql, run: str, source: str = "", condition: str = "") -> str:
    """Add the completed `run`s (NEW, or an alias in `source`) to their days, summed per
    day: a new completed run changes its day by adding to it (a count, a sum, a maximum, a
    list), where a run that leaves a day makes it read again."""
    day = sql.local_day(f"{run}.workspace_id", f"{run}.started_at")
    greatest = "max" if sql.sqlite else "greatest"
    summed = ("runs", "duration_sum", "timed_runs", "timed_rows_high", "timed_rows_low")
    updates = [f"{name} = sync_local_days.{name} + excluded.{name}" for name in summed]
    updates += [
        f"duration_max = {greatest}(sync_local_days.duration_max, excluded.duration_max)",
        "durations = sync_local_days.durations || ',' || excluded.durations",
    ]
    return (
        f"INSERT INTO sync_local_days ({', '.join(COLUMNS)})"
        f" SELECT {run}.workspace_id, {run}.sync_id, {day}, {_sums(sql, run)}{source}"
        f" WHERE {run}.status = 'completed'{condition} GROUP BY 1, 2, 3"
        f" ON CONFLICT (workspace_id, sync_id, day) DO UPDATE SET {', '.join(updates)}"
    )


def _create_sqlite_triggers() -> None:
    sql = Sql("sqlite")

    def body(groups: str) -> str:
        return " BEGIN " + " ".join(f"{s};" for s in _recomputed(sql, groups)) + " END"

    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in WATCHED)
    both = f"{_group(sql, 'OLD')} UNION {_group(sql, 'NEW')}"
    added = f" BEGIN {_added(sql, 'NEW')}; END"
    op.execute("CREATE TRIGGER sync_local_days_insert AFTER INSERT ON sync_runs" + added)
    op.execute(
        "CREATE TRIGGER sync_local_days_delete AFTER DELETE ON sync_runs" + body(_group(sql, "OLD"))
    )
    # A run that was not completed takes nothing from a day when it changes (the usual
    # update: running becomes completed), so it only adds to its new one.
    op.execute(
        "CREATE TRIGGER sync_local_days_completion AFTER UPDATE ON sync_runs"
        f" WHEN ({changed}) AND OLD.status IS NOT 'completed'" + added
    )
    op.execute(
        "CREATE TRIGGER sync_local_days_update AFTER UPDATE ON sync_runs"
        f" WHEN ({changed}) AND OLD.status = 'completed'" + body(both)
    )
    rebuild = [
        "DELETE FROM sync_local_days WHERE workspace_id = NEW.workspace_id",
        _rebuilt(sql, "workspace_id = NEW.workspace_id"),
    ]
    op.execute(
        "CREATE TRIGGER workspace_zones_rebuild AFTER UPDATE ON workspace_zones BEGIN "
        + " ".join(f"{statement};" for statement in rebuild)
        + " END"
    )


PAIRS = "old_runs o JOIN new_runs n ON n.workspace_id = o.workspace_id AND n.id = o.id"
CHANGED = (
    f" AND ({', '.join(f'o.{column}' for column in WATCHED)})"
    f" IS DISTINCT FROM ({', '.join(f'n.{column}' for column in WATCHED)})"
)


def _postgresql_changes(sql: Sql, *, new: str | None, old: str | None) -> list[str]:
    """What a statement does to the days: an insert adds its completed runs; a delete
    reads again the days its completed runs leave; an update reads again the days of the
    changed runs that were completed (before and after), and adds the others that are
    now completed to the days not read again."""
    if old is None:
        return [_added(sql, "t", " FROM new_runs t")]
    if new is None:
        return _recomputed(sql, _group(sql, "t", " FROM old_runs t"))
    read_again = " UNION ".join(
        _group(sql, run, f" FROM {PAIRS}", f"{CHANGED} AND o.status = 'completed'")
        for run in ("o", "n")
    )
    day = sql.local_day("n.workspace_id", "n.started_at")
    completed = (
        f"{CHANGED} AND o.status <> 'completed' AND (n.workspace_id, n.sync_id, {day})"
        f" NOT IN (SELECT ws, sync, day FROM ({read_again}) q)"
    )
    return [*_recomputed(sql, read_again), _added(sql, "n", f" FROM {PAIRS}", completed)]


def _postgresql_body(sql: Sql, *, new: str | None, old: str | None) -> str:
    """One statement's work: the syncs' state rows created and locked in key order (as
    0006's trigger does; whichever fires first takes them), the zones read FOR SHARE, then
    the touched days changed."""
    tables = [table for table in (new, old) if table is not None]
    synced = " UNION ".join(f"SELECT workspace_id, sync_id FROM {table}" for table in tables)
    workspaces = " UNION ".join(f"SELECT workspace_id FROM {table}" for table in tables)
    statements = []
    if new is not None:
        statements.append(
            "INSERT INTO sync_states"
            " (workspace_id, sync_id, mean_duration_sum, mean_duration_count)"
            f" SELECT DISTINCT workspace_id, sync_id, 0, 0 FROM {new} ORDER BY 1, 2"
            " ON CONFLICT (workspace_id, sync_id) DO NOTHING"
        )
    statements += [
        "PERFORM 1 FROM sync_states s"
        f" WHERE (s.workspace_id, s.sync_id) IN ({synced})"
        " ORDER BY s.workspace_id, s.sync_id FOR UPDATE",
        f"PERFORM 1 FROM workspace_zones z WHERE z.workspace_id IN ({workspaces})"
        " ORDER BY z.workspace_id FOR SHARE",
        *_postgresql_changes(sql, new=new, old=old),
    ]
    return "".join(f"    {statement};\n" for statement in statements)


def _create_postgresql_triggers() -> None:
    sql = Sql("postgresql")
    events = {
        "insert": ("INSERT", "REFERENCING NEW TABLE AS new_runs", "new_runs", None),
        "update": (
            "UPDATE",
            "REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs",
            "new_runs",
            "old_runs",
        ),
        "delete": ("DELETE", "REFERENCING OLD TABLE AS old_runs", None, "old_runs"),
    }
    for name, (event, referencing, new, old) in events.items():
        op.execute(
            f"CREATE FUNCTION sync_local_days_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{_postgresql_body(sql, new=new, old=old)}    RETURN NULL;\nEND\n$$"
        )
        op.execute(
            f"CREATE TRIGGER sync_local_days_{name} AFTER {event} ON sync_runs {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION sync_local_days_{name}()"
        )
    op.execute(
        "CREATE FUNCTION sync_local_days_rebuild(ws uuid) RETURNS void LANGUAGE plpgsql AS $$\n"
        "BEGIN\n    DELETE FROM sync_local_days WHERE workspace_id = ws;\n"
        f"    {_rebuilt(sql, 'workspace_id = ws')};\nEND\n$$"
    )
    op.execute(
        "CREATE FUNCTION workspace_zones_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n    PERFORM sync_local_days_rebuild(NEW.workspace_id);\n    RETURN NULL;\nEND\n$$"
    )
    op.execute(
        "CREATE TRIGGER workspace_zones_rebuild AFTER UPDATE ON workspace_zones"
        " FOR EACH ROW EXECUTE FUNCTION workspace_zones_rebuild()"
    )


def _create_tables() -> None:
    op.create_table(
        "workspace_zones",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("min_offset", sa.BigInteger(), nullable=False),
        sa.Column("max_offset", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_zones_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_workspace_zones")),
    )
    op.create_table(
        "workspace_utc_offsets",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("begins", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("offset_seconds", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_utc_offsets_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "begins", name=op.f("pk_workspace_utc_offsets")),
    )
    counts = ("runs", "duration_sum", "duration_max")
    timed = ("timed_runs", "timed_rows_high", "timed_rows_low")
    op.create_table(
        "sync_local_days",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("sync_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.BigInteger(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in counts),
        sa.Column("durations", sa.Text(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in timed),
        sa.ForeignKeyConstraint(
            ["workspace_id", "sync_id"],
            ["syncs.workspace_id", "syncs.id"],
            name=op.f("fk_sync_local_days_workspace_id_sync_id_syncs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "sync_id", "day", name=op.f("pk_sync_local_days")),
        sqlite_with_rowid=False,
    )


def _backfill(sql: Sql) -> None:
    """Every workspace's zone and pieces (as insights.zones writes them), then the days."""
    bind = op.get_bind()
    zones = sa.table(
        "workspace_zones",
        *(sa.column(name) for name in ("workspace_id", "timezone", "min_offset", "max_offset")),
    )
    offsets = sa.table(
        "workspace_utc_offsets",
        *(sa.column(n) for n in ("workspace_id", "begins", "offset_seconds")),
    )
    for workspace_id, name in bind.execute(sa.text("SELECT id, timezone FROM workspaces")).all():
        pieces = zone_pieces(name)
        seconds = [offset for _, offset in pieces]
        bind.execute(
            zones.insert().values(
                workspace_id=workspace_id,
                timezone=name,
                min_offset=min(seconds),
                max_offset=max(seconds),
            )
        )
        bind.execute(
            offsets.insert(),
            [{"workspace_id": workspace_id, "begins": b, "offset_seconds": o} for b, o in pieces],
        )
    op.execute(_rebuilt(sql, "workspace_id IS NOT NULL"))


def upgrade() -> None:
    _create_tables()
    sql = Sql(op.get_bind().dialect.name)
    _backfill(sql)
    if sql.sqlite:
        _create_sqlite_triggers()
    else:
        _create_postgresql_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in (*EVENTS, "completion"):
            op.execute(f"DROP TRIGGER sync_local_days_{event}")
        op.execute("DROP TRIGGER workspace_zones_rebuild")
    else:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER sync_local_days_{event} ON sync_runs")
            op.execute(f"DROP FUNCTION sync_local_days_{event}()")
        op.execute("DROP TRIGGER workspace_zones_rebuild ON workspace_zones")
        op.execute("DROP FUNCTION workspace_zones_rebuild()")
        op.execute("DROP FUNCTION sync_local_days_rebuild(uuid)")
    op.drop_table("sync_local_days")
    op.drop_table("workspace_utc_offsets")
    op.drop_table("workspace_zones")
