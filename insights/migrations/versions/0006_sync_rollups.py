"""sync_run_days and sync_states: what the sync reports read instead of every run, kept by
triggers on sync_runs

sync_run_days sums the finished runs of each sync per UTC day; sync_states holds each
sync's latest runs and the 30-day mean duration its health score needs. The triggers keep
both in the same transaction as every insert, update and delete of a run, whoever writes
it (the API, the importer, a bulk load); both are backfilled here. SQLite's triggers work
row by row; PostgreSQL's once per statement over its transition tables (a bulk insert
pays once per statement, not per run), and lock the syncs' state rows first, in key
order, then change the days and read the runs again, so two writers of one sync leave
what running them one after the other would.
Read by insights/reports/run_totals.py and insights/reports/health_inputs.py.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINISHED = "('completed', 'failed')"
MASK = "4294967295"  # the low 32 bits
SUMMED = ("completed", "failed", "duration_sum", "rows_high", "rows_low")
MEAN_DAYS = 30  # insights.reports.health_inputs.LATENCY_HISTORY_DAYS
# What an update must change for the rollups or the state to move (else nothing to do).
WATCHED = (
    "sync_id",
    "status",
    "started_at",
    "completed_at",
    "rows_created",
    "rows_updated",
    "rows_deleted",
)


class Sql:
    """The few expressions the two databases spell differently."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def day(self, moment: str) -> str:
        """Days since 1970-01-01 of a timestamp, rounded down."""
        if self.sqlite:
            epoch = f"unixepoch({moment})"
            return f"(({epoch} - ((({epoch} % 86400) + 86400) % 86400)) / 86400)"
        return f"CAST(floor(EXTRACT(EPOCH FROM {moment}) / 86400) AS BIGINT)"

    def duration(self, start: str, end: str) -> str:
        if self.sqlite:
            return f"(unixepoch({end}) - unixepoch({start}))"
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS BIGINT)"

    def is_status(self, run: str, status: str) -> str:
        test = f"{run}.status = '{status}'"
        return f"({test})" if self.sqlite else f"CAST({test} AS INTEGER)"

    def days_before(self, moment: str, days: int) -> str:
        if self.sqlite:
            return f"datetime({moment}, '-{days} days')"
        return f"({moment} - interval '{days} days')"

    def day_start(self, moment: str, later_days: int) -> str:
        """Midnight starting the day of `moment`, `later_days` days on. SQLite's text has
        no fraction, so it sorts before a stored timestamp of the same second."""
        if self.sqlite:
            return f"datetime({moment}, 'start of day', '+{later_days} days')"
        return f"(date_trunc('day', {moment}) + interval '{later_days} days')"


def _shares(run: str, sql: Sql) -> dict[str, str]:
    """One run's share of each daily sum (`run` is NEW, OLD or a table name)."""
    counts = [f"{run}.{column}" for column in ("rows_created", "rows_updated", "rows_deleted")]

    def if_completed(value: str) -> str:
        return f"(CASE WHEN {run}.status = 'completed' THEN {value} ELSE 0 END)"

    return {
        "day": sql.day(f"{run}.started_at"),
        "completed": sql.is_status(run, "completed"),
        "failed": sql.is_status(run, "failed"),
        "duration_sum": if_completed(sql.duration(f"{run}.started_at", f"{run}.completed_at")),
        "rows_high": if_completed(" + ".join(f"({count} >> 32)" for count in counts)),
        "rows_low": if_completed(" + ".join(f"({count} & {MASK})" for count in counts)),
    }


def _add_to_day(run: str, sql: Sql) -> str:
    """Upsert a finished run's share into its day (INSERT ... SELECT: a SQLite trigger
    takes no VALUES with a condition)."""
    shares = _shares(run, sql)
    values = ", ".join(shares[name] for name in ("day", *SUMMED))
    updates = ", ".join(f"{name} = sync_run_days.{name} + excluded.{name}" for name in SUMMED)
    return (
        f"INSERT INTO sync_run_days (workspace_id, sync_id, day, {', '.join(SUMMED)})"
        f" SELECT {run}.workspace_id, {run}.sync_id, {values} WHERE {run}.status IN {FINISHED}"
        f" ON CONFLICT (workspace_id, sync_id, day) DO UPDATE SET {updates}"
    )


def _take_from_day(run: str, sql: Sql) -> str:
    """Take a finished run's share out of its day. An UPDATE, never an insert: a sync being
    deleted cascades to its days and its runs in either order."""
    shares = _shares(run, sql)
    updates = ", ".join(f"{name} = {name} - {shares[name]}" for name in SUMMED)
    return (
        f"UPDATE sync_run_days SET {updates} WHERE workspace_id = {run}.workspace_id"
        f" AND sync_id = {run}.sync_id AND day = {shares['day']} AND {run}.status IN {FINISHED}"
    )


def _ensure_state(workspace: str, sync: str) -> str:
    return (
        "INSERT INTO sync_states (workspace_id, sync_id, mean_duration_sum, mean_duration_count)"
        f" SELECT {workspace}, {sync}, 0, 0 WHERE true"
        " ON CONFLICT (workspace_id, sync_id) DO NOTHING"
    )


def _refresh_state(
    sql: Sql,
    where: str,
    workspace: str = "sync_states.workspace_id",
    sync: str = "sync_states.sync_id",
) -> list[str]:
    """Statements that recompute the state rows matching `where` from their sync's runs
    (`workspace` and `sync`: the row's keys, by default its own columns) by index probes,
    and the mean from the day sums plus the runs of the two partial days: the latest runs
    first, then the mean, which starts from the latest completed run."""
    of_sync = f"r.workspace_id = {workspace} AND r.sync_id = {sync}"

    def latest(column: str, condition: str = "") -> str:
        order = " ORDER BY r.started_at DESC, r.id DESC LIMIT 1"
        if not sql.sqlite:
            # The latest start first (one step down the index), then the larger id among
            # the runs of that second: PostgreSQL would otherwise read all of the sync's
            # runs to sort them by id when it misjudges the table (as in a bulk load).
            newest = (
                f"(SELECT max(q.started_at) FROM sync_runs q WHERE q.workspace_id = {workspace}"
                f" AND q.sync_id = {sync}{condition.replace('r.', 'q.')})"
            )
            order = f" AND r.started_at = {newest} ORDER BY r.id DESC LIMIT 1"
        return f"(SELECT r.{column} FROM sync_runs r WHERE {of_sync}{condition}{order})"

    completed = " AND r.status = 'completed'"
    probes = {
        "last_status": latest("status"),
        "last_started_at": f"(SELECT max(r.started_at) FROM sync_runs r WHERE {of_sync})",
        "last_finished_status": latest("status", f" AND r.status IN {FINISHED}"),
        "latest_completed_started": latest("started_at", completed),
        "latest_completed_at": latest("completed_at", completed),
        "last_success_at": (
            f"(SELECT r.completed_at FROM sync_runs r WHERE {of_sync}{completed}"
            " AND r.completed_at IS NOT NULL ORDER BY r.completed_at DESC LIMIT 1)"
        ),
    }
    anchor = "sync_states.latest_completed_started"
    start = sql.days_before(anchor, MEAN_DAYS)
    duration = sql.duration("r.started_at", "r.completed_at")

    def runs(aggregate: str, low: str, high: str) -> str:
        return (
            f"coalesce((SELECT {aggregate} FROM sync_runs r WHERE {of_sync}{completed}"
            f" AND r.started_at >= {low} AND r.started_at < {high}), 0)"
        )

    def days(column: str) -> str:
        return (
            f"coalesce((SELECT sum(d.{column}) FROM sync_run_days d"
            f" WHERE d.workspace_id = {workspace} AND d.sync_id = {sync}"
            f" AND d.day > {sql.day(start)} AND d.day < {sql.day(anchor)}), 0)"
        )

    def mean_part(aggregate: str, column: str) -> str:
        first = runs(aggregate, start, sql.day_start(start, 1))
        last = runs(aggregate, sql.day_start(anchor, 0), anchor)
        return f"{first} + {days(column)} + {last}"

    where = f" WHERE {where}"
    total = mean_part(f"sum({duration})", "duration_sum")
    return [
        "UPDATE sync_states SET "
        + ", ".join(f"{name} = {value}" for name, value in probes.items())
        + where,
        f"UPDATE sync_states SET mean_duration_sum = {total},"
        f" mean_duration_count = {mean_part('count(*)', 'completed')}" + where,
    ]


def _create_sqlite_triggers() -> None:
    sql = Sql("sqlite")
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in WATCHED)

    def body(*statements: str) -> str:
        return " BEGIN " + " ".join(f"{statement};" for statement in statements) + " END"

    new = ("NEW.workspace_id", "NEW.sync_id")
    old = ("OLD.workspace_id", "OLD.sync_id")
    of_new = "workspace_id = NEW.workspace_id AND sync_id = NEW.sync_id"
    of_old = "workspace_id = OLD.workspace_id AND sync_id = OLD.sync_id"
    # A run moved to another sync (no route does this) also refreshes the one it left.
    old_if_moved = _refresh_state(sql, f"{of_old} AND OLD.sync_id IS NOT NEW.sync_id", *old)
    op.execute(
        "CREATE TRIGGER sync_rollups_insert AFTER INSERT ON sync_runs"
        + body(_add_to_day("NEW", sql), _ensure_state(*new), *_refresh_state(sql, of_new, *new))
    )
    op.execute(
        "CREATE TRIGGER sync_rollups_delete AFTER DELETE ON sync_runs"
        + body(_take_from_day("OLD", sql), *_refresh_state(sql, of_old, *old))
    )
    op.execute(
        f"CREATE TRIGGER sync_rollups_update AFTER UPDATE ON sync_runs WHEN {changed}"
        + body(
            _take_from_day("OLD", sql),
            _add_to_day("NEW", sql),
            *old_if_moved,
            _ensure_state(*new),
            *_refresh_state(sql, of_new, *new),
        )
    )


def _days_of(runs: str, sql: Sql) -> str:
    """The finished runs of a transition table summed per sync and day, in key order."""
    shares = _shares("t", sql)
    sums = ", ".join(f"sum({shares[name]}) AS {name}" for name in SUMMED)
    return (
        f"SELECT t.workspace_id, t.sync_id, {shares['day']} AS day, {sums} FROM {runs} t"
        f" WHERE t.status IN {FINISHED} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )


def _postgresql_body(sql: Sql, *, new: str | None, old: str | None) -> str:
    """One statement's work, set at a time over its transition tables (`new`, `old`): the
    syncs' state rows are created and locked first, in key order (every writer of a sync
    waits there, and two statements over the same syncs cannot wait for each other), then
    the days move, then the states are read again from the runs (each statement of a READ
    COMMITTED transaction sees what committed before it)."""
    tables = [table for table in (new, old) if table is not None]
    synced = " UNION ".join(f"SELECT workspace_id, sync_id FROM {table}" for table in tables)
    statements = []
    if new is not None:
        statements.append(
            "INSERT INTO sync_states"
            " (workspace_id, sync_id, mean_duration_sum, mean_duration_count)"
            f" SELECT DISTINCT workspace_id, sync_id, 0, 0 FROM {new} ORDER BY 1, 2"
            " ON CONFLICT (workspace_id, sync_id) DO NOTHING"
        )
    statements.append(
        "PERFORM 1 FROM sync_states s"
        f" WHERE (s.workspace_id, s.sync_id) IN ({synced})"
        " ORDER BY s.workspace_id, s.sync_id FOR UPDATE"
    )
    if old is not None:
        moved = ", ".join(f"{name} = d.{name} - o.{name}" for name in SUMMED)
        statements.append(
            f"UPDATE sync_run_days d SET {moved} FROM ({_days_of(old, sql)}) o"
            " WHERE d.workspace_id = o.workspace_id AND d.sync_id = o.sync_id AND d.day = o.day"
        )
    if new is not None:
        added = ", ".join(f"{name} = sync_run_days.{name} + excluded.{name}" for name in SUMMED)
        statements.append(
            f"INSERT INTO sync_run_days (workspace_id, sync_id, day, {', '.join(SUMMED)})"
            f" {_days_of(new, sql)}"
            f" ON CONFLICT (workspace_id, sync_id, day) DO UPDATE SET {added}"
        )
    statements += _refresh_state(sql, f"(workspace_id, sync_id) IN ({synced})")
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
            f"CREATE FUNCTION sync_rollups_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{_postgresql_body(sql, new=new, old=old)}    RETURN NULL;\nEND\n$$"
        )
        op.execute(
            f"CREATE TRIGGER sync_rollups_{name} AFTER {event} ON sync_runs {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION sync_rollups_{name}()"
        )


def _rebuilt(sql: Sql, scope: str) -> list[str]:
    """Statements that build the rollups of the runs matching `scope` (a condition on
    workspace_id) from nothing: the backfill, and a bulk load's rebuild."""
    shares = _shares("sync_runs", sql)
    sums = ", ".join(f"sum({shares[name]})" for name in SUMMED)
    return [
        f"INSERT INTO sync_run_days (workspace_id, sync_id, day, {', '.join(SUMMED)})"
        f" SELECT workspace_id, sync_id, {shares['day']}, {sums} FROM sync_runs"
        f" WHERE {scope} AND status IN {FINISHED}"
        f" GROUP BY workspace_id, sync_id, {shares['day']}",
        "INSERT INTO sync_states (workspace_id, sync_id, mean_duration_sum, mean_duration_count)"
        f" SELECT DISTINCT workspace_id, sync_id, 0, 0 FROM sync_runs WHERE {scope}",
        *_refresh_state(sql, scope),
    ]


def _backfill(sql: Sql) -> None:
    for statement in _rebuilt(sql, "true"):
        op.execute(statement)


def _create_postgresql_rebuild() -> None:
    """sync_rollups_rebuild(ws): the workspace's rollups made again from its runs, for a
    bulk load that ran with the insert trigger disabled (insights.db.bulk_runs)."""
    statements = [
        "DELETE FROM sync_run_days WHERE workspace_id = ws",
        "DELETE FROM sync_states WHERE workspace_id = ws",
        *_rebuilt(Sql("postgresql"), "workspace_id = ws"),
    ]
    body = "".join(f"    {statement};\n" for statement in statements)
    op.execute(
        "CREATE FUNCTION sync_rollups_rebuild(ws uuid) RETURNS void LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}END\n$$"
    )


def _state_table() -> None:
    timestamp = sa.DateTime()
    op.create_table(
        "sync_states",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("sync_id", sa.Uuid(), nullable=False),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("last_started_at", timestamp, nullable=True),
        sa.Column("last_finished_status", sa.String(length=16), nullable=True),
        sa.Column("latest_completed_started", timestamp, nullable=True),
        sa.Column("latest_completed_at", timestamp, nullable=True),
        sa.Column("last_success_at", timestamp, nullable=True),
        sa.Column("mean_duration_sum", sa.BigInteger(), nullable=False),
        sa.Column("mean_duration_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "sync_id"],
            ["syncs.workspace_id", "syncs.id"],
            name=op.f("fk_sync_states_workspace_id_sync_id_syncs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "sync_id", name=op.f("pk_sync_states")),
    )


def upgrade() -> None:
    op.create_table(
        "sync_run_days",
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
    )
    _state_table()
    sql = Sql(op.get_bind().dialect.name)
    _backfill(sql)
    if sql.sqlite:
        _create_sqlite_triggers()
    else:
        _create_postgresql_triggers()
        _create_postgresql_rebuild()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER sync_rollups_{event}")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER sync_rollups_{event} ON sync_runs")
            op.execute(f"DROP FUNCTION sync_rollups_{event}()")
        op.execute("DROP FUNCTION sync_rollups_rebuild(uuid)")
    op.drop_table("sync_states")
    op.drop_table("sync_run_days")
