"""Service settings, declared once: each field is read from INSIGHTS_<NAME> and documents
itself; the README's settings table is made from these declarations (`python -m
insights.settings` prints it, and a test keeps the README equal to it)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "INSIGHTS_"


class Settings(BaseSettings):
    """Every knob of the service; each default works on a fresh machine."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str = Field(
        "sqlite:///insights.db",
        description="SQLAlchemy URL; `postgresql+psycopg://user@host/db` selects PostgreSQL",
    )
    redis_url: str | None = Field(
        None, description="when set, rate limits are shared through Redis by every process"
    )
    rate_limit_per_minute: int = Field(
        100, ge=0, description="per workspace, sliding minute; `0` switches it off"
    )
    rate_limit_per_second: int = Field(
        20, ge=0, description="per workspace, sliding second (bursts); `0` switches it off"
    )
    # 10 million keys of ~25 characters plus newlines is ~270 MB; 1 GiB leaves room.
    max_body_bytes: int = Field(
        1 << 30, ge=1024, description="body limit of the streaming member upload (413 above)"
    )
    max_uploads_per_workspace: int = Field(
        2,
        ge=1,
        description="member uploads one workspace may run at once, counted across processes "
        "when Redis is configured (429 with `Retry-After` beyond)",
    )
    # JSON bodies are parsed in memory, so they get their own, smaller limit.
    max_json_body_bytes: int = Field(
        64 << 20, ge=1024, description="body limit of every JSON request (413 above)"
    )
    bitmap_cache_bytes: int = Field(
        512 << 20,
        ge=0,
        description="memory bound of the in-process cache of member bitmaps (`0`: no cache)",
    )
    bitmap_read_connections: int = Field(
        1,
        ge=0,
        le=32,
        description="PostgreSQL only: extra connections per process that read uncached "
        "bitmaps beside a read request's own, in parallel (`0`: none)",
    )
    session_secret: str | None = Field(
        None,
        description="signs dashboard session cookies; random per process when unset, so "
        "set it when running more than one process",
    )
    session_max_age_seconds: int = Field(8 * 3600, ge=60, description="dashboard session lifetime")
    log_level: str = Field("info", description="uvicorn's log level")
    gc_freeze: bool = Field(
        True,
        description="once started, take the objects the process holds from its start out of "
        "Python's cycle collector (`gc.freeze`), so that its full collections stop walking them "
        "(pauses of ~80 ms every few requests otherwise)",
    )
    alert_interval_seconds: int = Field(
        60,
        ge=1,
        description="how often `insights serve` re-evaluates every alert rule (for what time "
        "alone changes: staleness, the 7-day windows)",
    )
    alert_worker: bool = Field(
        True,
        description="run the periodic alert pass and the notification worker inside "
        "`insights serve` (`false`: leave them to `insights alerts evaluate|deliver`)",
    )
    webhook_allow_private: bool = Field(
        False,
        description="let alert channels point at loopback, private, link-local or unspecified "
        "addresses (refused by default, at save and at send time)",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="where people reach the dashboard: the links in Slack notifications",
    )
    metrics_token: str | None = Field(
        None, description="when set, `/metrics` requires `Authorization: Bearer <token>`"
    )
    report_cache_seconds: float = Field(
        5,
        ge=0,
        description="how long a process may serve an Insights answer (or the GET of one "
        "resource) from its cache of response bytes: never older than the workspace's "
        "latest write, but what time alone changes (windows, scores, today) shows up to "
        "this late, plus the time the report took (`0`: no cache)",
    )
    report_cache_bytes: int = Field(
        64 << 20,
        ge=0,
        description="memory bound of each process's cache of Insights (and single-resource) "
        "response bytes, least recently used out first (`0`: no cache)",
    )
    key_cache_seconds: float = Field(
        30,
        ge=0,
        description="how long a process trusts an API key it checked, re-checked at once "
        "after any write to the key's workspace (a revocation is one) (`0`: every request)",
    )
    db_pool_size: int = Field(
        10, ge=1, description="database connections per process (as many again may overflow)"
    )
    db_pool_timeout_seconds: float = Field(
        3,
        gt=0,
        description="how long a thread waits for a pooled connection before the request is "
        "a 503 busy with `Retry-After` (requests queue before they take one, see "
        "docs/operations.md)",
    )
    request_threads: int = Field(
        0,
        ge=0,
        description="worker threads that run requests' blocking code per process; `0`: sized "
        "to the connection pool (docs/operations.md)",
    )
    request_queue_seconds: float = Field(
        30,
        gt=0,
        description="how long a request waits in the process's queue for a database session "
        "before it is a 503 busy with `Retry-After`",
    )
    warm_up: bool = Field(
        True,
        description="before serving, compile the reports' queries on a rolled-back workspace "
        "and open the pool's connections, so the first request costs what later ones do",
    )


@lru_cache
def get_settings() -> Settings:
    """The settings of this process (the CLI's default)."""
    return Settings()


def settings_table() -> str:
    """The README's table of settings: variable, default, meaning."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "unset" if field.default is None else f"`{field.default}`"
        lines.append(f"| `{ENV_PREFIX}{name.upper()}` | {default} | {field.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_table(), end="")
