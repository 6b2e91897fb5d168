"""Service settings, read once from INSIGHTS_* environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; each default works on a fresh machine."""

    model_config = SettingsConfigDict(env_prefix="INSIGHTS_", extra="ignore")

    database_url: str = "sqlite:///insights.db"
    redis_url: str | None = None
    rate_limit_per_minute: int = Field(default=100, ge=0)
    rate_limit_per_second: int = Field(default=20, ge=0)
    # 10 million keys of ~25 characters plus newlines is ~270 MB; 1 GiB leaves room.
    max_body_bytes: int = Field(default=1 << 30, ge=1024)
    # JSON bodies are parsed in memory, so they get their own, smaller limit.
    max_json_body_bytes: int = Field(default=64 << 20, ge=1024)
    bitmap_cache_bytes: int = Field(default=512 << 20, ge=0)
    # PostgreSQL only: extra connections that read uncached bitmaps beside a read request's
    # own (insights.members.reads); 0 reads them all on the request's connection.
    bitmap_read_connections: int = Field(default=1, ge=0, le=32)
    session_secret: str | None = None
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60)
    log_level: str = "info"
    db_pool_size: int = Field(default=10, ge=1)


@lru_cache
def get_settings() -> Settings:
    """The settings of this process (the CLI's default)."""
    return Settings()
