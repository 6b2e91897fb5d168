"""The `insights` command group and what its commands share: JSON output and a write
transaction on the configured database. Every command migrates the database first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import click
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from insights import alerts
from insights.db import (
    database_failure,
    make_engine,
    make_sessionmakers,
    migrate,
    transaction,
)
from insights.errors import InsightsError
from insights.settings import Settings, get_settings


class Commands(click.Group):
    """The command group: an error of the service (a refused line, an unknown workspace)
    or of the database (gone away, refusing) ends the command with its message and exit
    status 1, never a traceback (nor the row values in a database error's statement)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InsightsError as exc:
            raise click.ClickException(exc.message) from exc
        except DBAPIError as exc:
            raise click.ClickException(f"The database failed: {database_failure(exc)}.") from exc


@click.group(cls=Commands)
@click.pass_context
def main(ctx: click.Context) -> None:
    """SignalSmith Insights: the analytics service of a composable CDP."""
    settings = get_settings()
    migrate(settings.database_url)
    ctx.obj = settings


def print_json(value: dict[str, Any]) -> None:
    click.echo(json.dumps(value))


@contextmanager
def write_factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Write sessions on the configured database whose changes are followed by the alert
    evaluation they call for (as the service's are)."""
    engine = make_engine(settings.database_url)
    try:
        yield make_sessionmakers(engine, write_info={alerts.TRACK: True})[1]
    finally:
        engine.dispose()


@contextmanager
def write_session(settings: Settings) -> Iterator[Session]:
    """A write transaction on the configured database, for one-shot commands; after its
    commit, the alert rules are evaluated for what it changed."""
    with write_factory(settings) as write:
        with transaction(write) as session:
            yield session
        alerts.evaluate_after_write(write, session)


def read_session(settings: Settings) -> AbstractContextManager[Session]:
    """A read-only session on the configured database, for one-shot commands."""
    engine = make_engine(settings.database_url)
    return transaction(make_sessionmakers(engine)[0])
