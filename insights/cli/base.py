"""The `insights` command group and what its commands share: JSON output and a write
transaction on the configured database. Every command migrates the database first."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

import click
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

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


def write_session(settings: Settings) -> AbstractContextManager[Session]:
    """A write transaction on the configured database, for one-shot commands."""
    engine = make_engine(settings.database_url)
    return transaction(make_sessionmakers(engine)[1])


def read_session(settings: Settings) -> AbstractContextManager[Session]:
    """A read-only session on the configured database, for one-shot commands."""
    engine = make_engine(settings.database_url)
    return transaction(make_sessionmakers(engine)[0])
