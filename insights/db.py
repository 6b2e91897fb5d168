"""Engine, sessions and migrations; the SQLite pragmas and the few dialect differences."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Select, create_engine, event, insert, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool, QueuePool

# Imported for its session hooks: every session that writes a workspace's data bumps the
# workspace's data version in the same transaction (the report caches rely on it).
from insights import (
    data_version,  # noqa: F401
    metrics,
    zones,  # noqa: F401 - its Workspace hooks keep the zone that the local-day rollups use
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
Query = TypeVar("Query", bound=Select[Any])

# What a transaction will do to a row it reads (PostgreSQL row locks, held to its end):
# "delete" it (FOR UPDATE: waits for every other lock), "update" it (FOR NO KEY UPDATE: rows
# may still be inserted that refer to it), "refer" to it from a new or changed row (FOR KEY
# SHARE: only a delete waits for it). SQLite serialises writers, so it needs none of them.
Lock = Literal["delete", "update", "refer"]
_LOCK_OPTIONS = {"delete": (False, False), "update": (False, True), "refer": (True, True)}


def is_sqlite(bind: Engine | Connection | Session) -> bool:
    return (
        bind.get_bind().dialect.name == "sqlite"
        if isinstance(bind, Session)
        else (bind.dialect.name == "sqlite")
    )


def make_engine(
    url: str, pool_size: int = 10, pool: str = "main", pool_timeout: float = 10
) -> Engine:
    """An engine that survives the database going away (pre-ping) and, on SQLite, runs
    in WAL mode with foreign keys on and writers that wait instead of failing. Both pool
    `pool_size` connections and as many overflow; a thread waits `pool_timeout` seconds for
    one (then sqlalchemy.exc.TimeoutError: busy). Its connections in use count in the `pool`
    series of insights_db_pool_connections_in_use.

    The pool hands out the connection used last (LIFO): a SQLite connection's page cache
    and a PostgreSQL connection's prepared statements are its own, and a queue (FIFO)
    rotated sequential requests through every idle connection, each cold on its first use
    (SQLite sync-health at 7 days: the first five calls of a new process 43-81 ms, then
    31; with LIFO 31 from the first)."""
    pooling: dict[str, Any] = {
        "poolclass": QueuePool,
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_timeout": pool_timeout,
        "pool_pre_ping": True,
        "pool_use_lifo": True,
    }
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, **pooling)
        _configure_sqlite(engine)
    else:
        # JIT compilation costs ~20 ms on the report aggregates and never pays back here.
        connect_args = {"options": pg_options(url, "-c jit=off"), "connect_timeout": 5}
        engine = create_engine(url, connect_args=connect_args, **pooling)
    _count_connections_in_use(engine, pool)
    return engine


def pg_options(url: str, ours: str) -> str:
    """Our PostgreSQL `options` after the URL's own (a search_path, say), which connect_args
    would otherwise replace."""
    given = make_url(url).query.get("options", ())
    return " ".join([*([given] if isinstance(given, str) else given), ours])


def _count_connections_in_use(engine: Engine, pool: str) -> None:
    @event.listens_for(engine, "checkout")
    def _on_checkout(*_: Any) -> None:
        metrics.pool_checked_out(pool)

    @event.listens_for(engine, "checkin")
    def _on_checkin(*_: Any) -> None:
        metrics.pool_checked_in(pool)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN is ours (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Reports scan index ranges over a million runs: a 64 MiB page cache and memory-mapped
        # reads keep them off the read() path.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that later upgrades
        # fails at once with "database is locked" when another writer holds it.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_sessionmakers(
    engine: Engine,
    read_info: dict[str, Any] | None = None,
    write_info: dict[str, Any] | None = None,
) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """(read, write) session factories; on SQLite the write one begins IMMEDIATE. The
    `info` dicts travel with every session (the app's member caches, insights.members).

    On PostgreSQL the read one runs in autocommit: each statement reads committed data, as
    in a READ COMMITTED transaction, without the BEGIN and COMMIT round trips (two of the
    five a cached overlap request made)."""
    read_engine = (
        engine if is_sqlite(engine) else engine.execution_options(isolation_level="AUTOCOMMIT")
    )
    read = sessionmaker(read_engine, expire_on_commit=False, info=read_info)
    write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
    write = sessionmaker(write_engine, expire_on_commit=False, info=write_info)
    return read, write


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit at the end, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def locked(query: Query, lock: Lock | None) -> Query:
    """`query` taking `lock` on the rows it reads, and reading them afresh: after waiting for
    the lock, the row is the one the other transaction committed, not a copy loaded earlier
    in this session. None: the query as it is."""
    if lock is None:
        return query
    read, key_share = _LOCK_OPTIONS[lock]
    locking = query.with_for_update(read=read, key_share=key_share)
    return locking.execution_options(populate_existing=True)


def insert_new(session: Session, row: Any) -> bool:
    """Adds `row` (whose primary key the client chose) and flushes it; False, with nothing
    added, when a row with that key exists after all: committed by a concurrent request
    since this one looked (PostgreSQL makes the insert wait for it, then collide)."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        if violated_constraint(exc) != "unique":
            raise
        return False
    return True


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts) into `table` set-based. On PostgreSQL with RETURNING, which
    makes SQLAlchemy send them as multi-row INSERTs ("insertmanyvalues", 1,000 rows each)
    instead of one statement per row, so the run table's statement triggers (migration
    0006) do their work per thousand rows; on SQLite as one executemany (its triggers work
    row by row either way)."""
    if not rows:
        return
    statement = insert(table)
    if not is_sqlite(session):
        first_key = next(iter(table.primary_key.columns))
        statement = statement.returning(first_key)
    session.execute(statement, rows)


# The run table's insert triggers on PostgreSQL, each with what makes its rollups again.
_BULK_REBUILDS = (
    ("sync_rollups_insert", "sync_rollups_rebuild"),  # migration 0006
    ("sync_local_days_insert", "sync_local_days_rebuild"),  # migration 0010
)


@contextmanager
def bulk_runs(session: Session, workspace_id: Any) -> Iterator[None]:
    """A bulk load of one workspace's sync runs in this transaction, run without the
    per-statement rollup triggers on PostgreSQL, whose rollups are then made again from its
    runs in one pass (_BULK_REBUILDS): a load of runs in time order across hundreds of syncs
    would otherwise refresh every sync in every statement. Disabling a trigger locks
    sync_runs for the rest of the transaction, so this is for builders of fresh workspaces
    (the benchmarks), not for a live service. SQLite's row triggers stay on (they cost
    about as much as the rows)."""
    if is_sqlite(session):
        yield
        return
    for trigger, _ in _BULK_REBUILDS:
        session.execute(text(f"ALTER TABLE sync_runs DISABLE TRIGGER {trigger}"))
    yield
    for trigger, rebuild in _BULK_REBUILDS:
        session.execute(text(f"ALTER TABLE sync_runs ENABLE TRIGGER {trigger}"))
        session.execute(text(f"SELECT {rebuild}(:ws)"), {"ws": workspace_id})


def violated_constraint(exc: IntegrityError) -> str:
    """ "unique", "foreign_key", "check", "not_null" or "other": what the database refused."""
    code = getattr(exc.orig, "sqlstate", None)
    if code is not None:
        return _PG_INTEGRITY.get(code, "other")
    message = str(exc.orig)
    for prefix, kind in _SQLITE_INTEGRITY.items():
        if message.startswith(prefix):
            return kind
    return "other"


_PG_INTEGRITY = {"23505": "unique", "23503": "foreign_key", "23514": "check", "23502": "not_null"}
_SQLITE_INTEGRITY = {
    "UNIQUE constraint failed": "unique",
    "FOREIGN KEY constraint failed": "foreign_key",
    "CHECK constraint failed": "check",
    "NOT NULL constraint failed": "not_null",
}


def migrate(url: str, revision: str = "head", *, down: bool = False) -> None:
    """Bring the database at `url` up to `revision` (the latest schema by default), or
    down to it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    engine = create_engine(url, poolclass=NullPool)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()


PROBE_SECONDS = 2


def make_probe_engine(url: str) -> Engine:
    """An engine for readiness probes: a fresh connection each time, outside the pool the
    requests share (a pool that is all in use is busy, not down), with short timeouts."""
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": PROBE_SECONDS})
        _configure_sqlite(engine)
        return engine
    options = pg_options(url, f"-c statement_timeout={PROBE_SECONDS * 1000}")
    return create_engine(
        url,
        poolclass=NullPool,
        connect_args={"connect_timeout": PROBE_SECONDS, "options": options},
    )


def make_no_wait_sqlite_engine(url: str) -> Engine:
    """A SQLite engine for best-effort writes (a key's last_used_at): one connection, whose
    transactions begin IMMEDIATE and fail at once ("database is locked") instead of waiting
    while another writer (a ten-million-key upload) holds the lock."""
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 0},
        pool_size=1,
        max_overflow=0,
        pool_timeout=0,
    )
    _configure_sqlite(engine)

    @event.listens_for(engine, "connect")
    def _no_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")  # after _configure_sqlite's 30 s

    return engine.execution_options(sqlite_begin="IMMEDIATE")


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def connections_in_use(engine: Engine) -> tuple[int, int | None]:
    """(connections of the engine's pool in use, how many it may open; None: no bound)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):  # no pool to run out of
        return 0, None
    # QueuePool keeps its overflow bound private; it is the max_overflow make_engine gave.
    return pool.checkedout(), pool.size() + int(getattr(pool, "_max_overflow", 0))


def database_failure(exc: DBAPIError) -> str:
    """The driver's own first line of a database error (\"server closed the connection
    unexpectedly\"), without the statement and parameters SQLAlchemy adds to its message:
    those may hold the row values of a client's data."""
    lines = str(exc.orig).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__
