"""Database tables. Every workspace row carries workspace_id in its primary key, unique
constraints and foreign keys, so the schema can be distributed by workspace unchanged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    Uuid,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on both databases; hands out aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _ws_fk(columns: list[str], table: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A foreign key that always includes the workspace, as a distributed schema needs."""
    return ForeignKeyConstraint(
        ["workspace_id", *columns], [f"{table}.workspace_id", f"{table}.id"], ondelete=ondelete
    )


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The next dense member ID to hand out; bumped under a row lock while encoding keys.
    next_member_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # Keys in the workspace's dictionary, kept under the same lock, so that the check for
    # unused keys after every upload need not count millions of rows.
    member_key_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkspaceVersion(Base):
    """The workspace's data version: bumped in the transaction of every write that can change
    what a report of the workspace answers (insights.data_version), so that a cached report
    is known to be current by reading one row."""

    __tablename__ = "workspace_versions"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255))
    key_prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ResourceColumns:
    """The columns every resource kind shares."""

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    status_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Source(ResourceColumns, Base):
    __tablename__ = "sources"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        Index(None, "workspace_id", "created_at"),
    )

    source_type: Mapped[str] = mapped_column(String(255))


class Model(ResourceColumns, Base):
    __tablename__ = "models"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        _ws_fk(["source_id"], "sources"),
        Index(None, "workspace_id", "created_at"),
        Index(None, "workspace_id", "source_id"),
    )

    source_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class Destination(ResourceColumns, Base):
    __tablename__ = "destinations"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        Index(None, "workspace_id", "created_at"),
    )

    destination_type: Mapped[str] = mapped_column(String(255))


class Audience(ResourceColumns, Base):
    __tablename__ = "audiences"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        _ws_fk(["parent_model_id"], "models"),
        Index(None, "workspace_id", "created_at"),
        Index(None, "workspace_id", "parent_model_id"),
    )

    parent_model_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    estimated_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Sync(ResourceColumns, Base):
    """Model syncs (kind 'model') and audience-syncs (kind 'audience') share one table,
    so every insight over "syncs" reads one table and one run table."""

    __tablename__ = "syncs"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        _ws_fk(["model_id"], "models"),
        _ws_fk(["audience_id"], "audiences"),
        _ws_fk(["destination_id"], "destinations"),
        Index(None, "workspace_id", "kind", "created_at"),
        Index(None, "workspace_id", "model_id"),
        Index(None, "workspace_id", "audience_id"),
        Index(None, "workspace_id", "destination_id"),
    )

    kind: Mapped[str] = mapped_column(String(8))
    model_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    audience_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    destination_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sync_mode: Mapped[str | None] = mapped_column(String(64), nullable=True)
    schedule: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # SLA targets (contract 8.4): a completed run at least this often; none longer than this.
    sla_freshness_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sla_duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Loader(ResourceColumns, Base):
    __tablename__ = "loaders"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        _ws_fk(["source_id"], "sources"),
        Index(None, "workspace_id", "created_at"),
        Index(None, "workspace_id", "source_id"),
    )

    loader_type: Mapped[str] = mapped_column(String(255))
    source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    schedule: Mapped[str | None] = mapped_column(String(255), nullable=True)


# The run rules (insights.runs.check_timeline) kept by the database too: a finished run has a
# completion time not before its start, an unfinished one none. Migration 0005 adds it.
RUN_TIMELINE = (
    "(status IN ('queued', 'running') AND completed_at IS NULL)"
    " OR (status IN ('completed', 'failed', 'cancelled')"
    " AND completed_at IS NOT NULL AND completed_at >= started_at)"
)


def _run_timeline() -> CheckConstraint:
    return CheckConstraint(RUN_TIMELINE, name="timeline")


class RunColumns:
    """The columns both run tables share."""

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncRun(RunColumns, Base):
    __tablename__ = "sync_runs"
    __table_args__ = (
        _ws_fk(["sync_id"], "syncs", ondelete="CASCADE"),
        _run_timeline(),
        # Per-sync windows and "the latest run" are range scans on this index. It also holds
        # every column the window aggregate reads, so the aggregate never visits the table
        # (runs are written in time order, so one sync's runs are spread over many pages).
        Index(
            "ix_sync_runs_window",
            "workspace_id",
            "sync_id",
            "started_at",
            "status",
            "completed_at",
            "rows_created",
            "rows_updated",
            "rows_deleted",
        ),
        # "Rows synced today" reads completed runs by completion time.
        Index(None, "workspace_id", "completed_at"),
        # A sync's completed runs by completion: its latest success (the state triggers)
        # is one probe, and sync-sla's completions of a window one range read from the
        # index alone (migration 0013 put status before completed_at).
        Index(None, "workspace_id", "sync_id", "status", "completed_at"),
        # The health score's failed runs of the last days, for every sync at once: one range
        # of an index of the failed runs alone (a few percent of all), not a probe per sync.
        Index(
            "ix_sync_runs_failed",
            "workspace_id",
            "started_at",
            "sync_id",
            sqlite_where=text("status = 'failed'"),
            postgresql_where=text("status = 'failed'"),
        ),
    )

    sync_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    rows_processed: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_created: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_updated: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_failed: Mapped[int] = mapped_column(BigInteger, default=0)


class RunSums:
    """The sums of finished runs both run rollups keep (per day, per block of days)."""

    completed: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[int] = mapped_column(BigInteger)
    duration_sum: Mapped[int] = mapped_column(BigInteger)  # seconds, completed runs
    rows_high: Mapped[int] = mapped_column(BigInteger)  # completed runs' rows synced
    rows_low: Mapped[int] = mapped_column(BigInteger)


class SyncRunDay(RunSums, Base):
    """The finished runs of one sync that started on one UTC day, summed: what the window
    reports read instead of the runs themselves (O(syncs x days), not O(runs)).

    Kept by database triggers on sync_runs (migration 0006), in the transaction of every
    insert, update and delete, whatever wrote it: the API, the importer, a bulk load.
    Row counts are summed in 32-bit halves (rows_high, rows_low), so no accepted run can
    overflow them; rows_synced = rows_high * 2**32 + rows_low. A day whose runs were all
    deleted keeps a row of zeros."""

    __tablename__ = "sync_run_days"  # day: days since 1970-01-01 of started_at (UTC)
    # On SQLite the table is its key's B-tree (WITHOUT ROWID, migration 0009): a window
    # reads each sync's days as one stretch of it, sums beside the key.
    __table_args__ = (
        _ws_fk(["sync_id"], "syncs", ondelete="CASCADE"),
        {"sqlite_with_rowid": False},
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sync_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class SyncRunBlock(RunSums, Base):
    """SyncRunDay's sums over blocks of BLOCK_DAYS days (block = day >> BLOCK_BITS): a long
    window reads a few blocks and at most BLOCK_DAYS - 1 days per sync instead of every
    day (a year: about 38 rows, not 365).

    Kept by triggers on sync_run_days (migration 0012), so whatever writes a day (the run
    table's triggers, a bulk load's rebuild) moves its block in the same statement. A
    block whose days were all emptied keeps a row of zeros."""

    __tablename__ = "sync_run_blocks"
    __table_args__ = (
        _ws_fk(["sync_id"], "syncs", ondelete="CASCADE"),
        {"sqlite_with_rowid": False},
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sync_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


BLOCK_BITS = 4
BLOCK_DAYS = 1 << BLOCK_BITS  # sync_run_blocks' span: 16 days


class SyncState(Base):
    """One sync's latest runs and the mean duration its health score compares with (contract
    8.1: the completed runs started in the 30 days before the latest completed one), so the
    sync reports read one row per sync instead of probing its runs.

    Kept by the same triggers as SyncRunDay (migration 0006), recomputed from the runs on
    every write of one of the sync's runs. No row: the sync has never had a run."""

    __tablename__ = "sync_states"
    __table_args__ = (_ws_fk(["sync_id"], "syncs", ondelete="CASCADE"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sync_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # The latest run (by started_at, a tie to the larger id), of any status and finished.
    last_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_finished_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    latest_completed_started: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    latest_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    mean_duration_sum: Mapped[int] = mapped_column(BigInteger)  # seconds
    mean_duration_count: Mapped[int] = mapped_column(BigInteger)


class WorkspaceZone(Base):
    """The time zone a workspace's local-day rollups (SyncLocalDay) are kept in, with the
    least and greatest UTC offset of its pieces (how far a local day reaches either side of
    UTC midnight). Written by insights.zones whenever the workspace is created or its zone
    changes; its row lock orders a zone change after the run writes in flight (the run
    triggers read it FOR SHARE). Reports read the rollups only when this zone is the
    workspace's."""

    __tablename__ = "workspace_zones"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    min_offset: Mapped[int] = mapped_column(BigInteger)  # seconds east of UTC
    max_offset: Mapped[int] = mapped_column(BigInteger)


class WorkspaceUtcOffset(Base):
    """One piece of a workspace's zone: from `begins` (epoch seconds) to the next piece's
    begins, local time is UTC plus `offset_seconds`. The pieces cover all time (the first
    begins at -2**62), so the run triggers find a run's local day in one index probe
    without a time-zone library (SQLite has none)."""

    __tablename__ = "workspace_utc_offsets"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    begins: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    offset_seconds: Mapped[int] = mapped_column(BigInteger)


class SyncLocalDay(Base):
    """The completed runs of one sync whose started_at falls on one calendar day in the
    workspace's zone (days since 1970-01-01 of local time): what sync-duration and
    sync-throughput read instead of the runs (contract 8.2, 8.3: data points per local
    date, exact nearest-rank percentiles).

    Kept by triggers on sync_runs (migration 0010) in the transaction of every write of a
    run, and rebuilt for the whole workspace when its zone changes (insights.zones).
    `durations` holds every duration of the day (text, comma-separated, in no particular
    order): the percentiles of a window need them all. The `timed_` columns count the runs
    that took time (duration above 0, the ones throughput rates); their seconds are
    `duration_sum` (a run of 0 seconds adds nothing). Rows in 32-bit halves as in
    SyncRunDay. A day with no completed run has no row."""

    __tablename__ = "sync_local_days"
    __table_args__ = (
        _ws_fk(["sync_id"], "syncs", ondelete="CASCADE"),
        {"sqlite_with_rowid": False},
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sync_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    runs: Mapped[int] = mapped_column(BigInteger)
    duration_sum: Mapped[int] = mapped_column(BigInteger)
    duration_max: Mapped[int] = mapped_column(BigInteger)
    durations: Mapped[str] = mapped_column(Text)
    timed_runs: Mapped[int] = mapped_column(BigInteger)
    timed_rows_high: Mapped[int] = mapped_column(BigInteger)
    timed_rows_low: Mapped[int] = mapped_column(BigInteger)


class LoaderRun(RunColumns, Base):
    __tablename__ = "loader_runs"
    __table_args__ = (
        _ws_fk(["loader_id"], "loaders", ondelete="CASCADE"),
        _run_timeline(),
        Index(None, "workspace_id", "loader_id", "started_at"),
        Index(None, "workspace_id", "completed_at"),
    )

    loader_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    rows_loaded: Mapped[int] = mapped_column(BigInteger, default=0)


class AudienceEvaluation(Base):
    __tablename__ = "audience_evaluations"
    __table_args__ = (
        _ws_fk(["audience_id"], "audiences", ondelete="CASCADE"),
        # An audience's history in the trends' order, with its sizes: the index alone
        # answers audience-trends (migration 0015).
        Index(
            "ix_audience_evaluations_history",
            "workspace_id",
            "audience_id",
            "evaluated_at",
            "created_at",
            "id",
            "size",
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    audience_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(BigInteger)
    has_members: Mapped[bool] = mapped_column(Boolean, default=False)
    members_added: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    members_removed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Microsecond insertion time: breaks ties between evaluations of the same second.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberBitmap(Base):
    """The serialised roaring bitmap of an audience's current members. Only the latest
    member evaluation of an audience keeps its bitmap, so storage never grows with history."""

    __tablename__ = "member_bitmaps"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "evaluation_id"],
            ["audience_evaluations.workspace_id", "audience_evaluations.id"],
            ondelete="CASCADE",
        ),
        Index(None, "workspace_id", "audience_id", unique=True),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    evaluation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    audience_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MemberKey(Base):
    """The workspace's dictionary from member key to dense integer ID."""

    __tablename__ = "member_keys"
    # No foreign key to workspaces: its per-row check doubles the cost of inserting ten
    # million keys on PostgreSQL, and keys are only ever written under the workspace's row
    # lock (insights.members), so the workspace exists.
    # One B-tree, on the key: every lookup is by key, and each new key costs one index
    # insert instead of two. IDs are unique by construction (handed out under that lock);
    # only garbage collection finds rows by ID, in one pass over the workspace's keys.
    # On SQLite the table is that B-tree itself (WITHOUT ROWID), member_id beside the key.
    __table_args__ = ({"sqlite_with_rowid": False},)

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # Byte-wise collation on PostgreSQL: keys compare exactly, and joins on them are faster.
    key: Mapped[str] = mapped_column(
        String(256).with_variant(String(256, collation="C"), "postgresql"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(BigInteger)


class AlertRule(Base):
    """What to watch (a condition over syncs or audiences) and whom to tell (a webhook or a
    Slack incoming webhook). The channel's secret is stored to sign with; it is never shown."""

    __tablename__ = "alert_rules"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        Index(None, "workspace_id", "created_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255))
    condition: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(14, 4), nullable=True)
    sync_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    audience_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    channel_type: Mapped[str] = mapped_column(String(16))
    channel_url: Mapped[str] = mapped_column(String(2048))
    channel_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """One stretch of a rule's condition being true for one subject: opened when it turned
    true, resolved when it turned false. At most one is firing per (rule, subject): the
    partial unique index refuses a second, whatever two processes do at once."""

    __tablename__ = "alerts"
    # No foreign key to the rule: a deleted rule's alerts stay, resolved, with its name.
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        Index(None, "workspace_id", "opened_at"),
        Index(None, "workspace_id", "rule_id", "state"),
        Index(
            "uq_alerts_firing",
            "workspace_id",
            "rule_id",
            "subject_id",
            unique=True,
            sqlite_where=text("state = 'firing'"),
            postgresql_where=text("state = 'firing'"),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    rule_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    rule_name: Mapped[str] = mapped_column(String(255))
    condition: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subject_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="firing")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class AlertNotification(Base):
    """The outbox: a notification to send, written in the transaction that changed the
    alert, with the body and the channel as they were then. A worker claims it for a
    while (`locked_until`), so a delivery in flight when a process stops is sent again."""

    __tablename__ = "alert_notifications"
    __table_args__ = (
        _ws_fk(["alert_id"], "alerts", ondelete="CASCADE"),
        Index(None, "workspace_id", "alert_id", "created_at"),
        Index(None, "status", "next_attempt_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    channel_type: Mapped[str] = mapped_column(String(16))
    channel_url: Mapped[str] = mapped_column(String(2048))
    channel_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
