"""The command line: serve, migrate, workspace and key bootstrap (and the commands that
other modules register). Every command migrates the database before anything else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from insights import auth
from insights.db import make_engine, make_sessionmakers, migrate, transaction
from insights.errors import InsightsError
from insights.schemas import Scope
from insights.settings import Settings, get_settings


def _print_json(value: dict[str, Any]) -> None:
    click.echo(json.dumps(value))


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """SignalSmith Insights: the analytics service of a composable CDP."""
    settings = get_settings()
    migrate(settings.database_url)
    ctx.obj = settings


def write_session(settings: Settings) -> Any:
    """A write transaction on the configured database, for one-shot commands."""
    engine = make_engine(settings.database_url)
    return transaction(make_sessionmakers(engine)[1])


@main.command("migrate")
def migrate_command() -> None:
    """Bring the database up to the latest schema (done; every command does it first)."""
    click.echo("database is at the latest schema", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.pass_obj
def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Run the service."""
    import uvicorn

    uvicorn.run(
        "insights.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
    )


@main.group()
def workspace() -> None:
    """Manage workspaces."""


@workspace.command("create")
@click.argument("name")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone.")
@click.pass_obj
def create_workspace(settings: Settings, name: str, timezone: str) -> None:
    """Create a workspace and its first admin key; prints both as JSON."""
    from insights.api.workspaces import check_timezone

    try:
        with write_session(settings) as session:
            ws = auth.create_workspace(session, name, check_timezone(timezone))
            _, raw = auth.mint_key(session, ws.id, "admin (bootstrap)", "admin")
            workspace_id = ws.id
    except InsightsError as exc:
        raise click.ClickException(exc.message) from exc
    _print_json({"workspace_id": str(workspace_id), "api_key": raw})


@main.group()
def key() -> None:
    """Manage API keys."""


@key.command("create")
@click.option("--workspace", "workspace_id", required=True, type=click.UUID)
@click.option(
    "--scope", type=click.Choice(["read", "write", "admin"]), default="read", show_default=True
)
@click.option("--name", default="cli", show_default=True)
@click.pass_obj
def create_key(settings: Settings, workspace_id: Any, scope: Scope, name: str) -> None:
    """Create an API key; prints its id and the raw key as JSON."""
    from insights.models import Workspace

    with write_session(settings) as session:
        if session.get(Workspace, workspace_id) is None:
            raise click.ClickException(f"workspace {workspace_id} does not exist")
        api_key, raw = auth.mint_key(session, workspace_id, name, scope)
        key_id = api_key.id
    _print_json({"id": str(key_id), "api_key": raw})


@main.command()
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.01, 100.0),
    help="Multiplies the demo's counts (syncs, audiences, customers).",
)
@click.option("--seed", default=42, show_default=True, type=int, help="Same seed, same data.")
@click.option(
    "--serve/--no-serve",
    "then_serve",
    default=True,
    show_default=True,
    help="Start the service once the workspace is ready.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def demo(
    ctx: click.Context, scale: float, seed: int, then_serve: bool, host: str, port: int
) -> None:
    """Build (or reuse) the demo workspace, print a read key for it as JSON, then serve."""
    from insights.demo import ensure_demo

    with write_session(ctx.obj) as session:
        result = ensure_demo(session, scale=scale, seed=seed)
    _print_json(result.as_json())
    click.echo(result.hint(host, port), err=True)
    if then_serve:
        ctx.invoke(serve, host=host, port=port, workers=1)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", "workspace_id", required=True, type=click.UUID)
@click.option(
    "--atomic/--no-atomic",
    default=True,
    show_default=True,
    help="All or nothing; --no-atomic commits every 5,000 lines.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress bar on stderr; by default for files over 1 MB.",
)
@click.pass_obj
def import_command(
    settings: Settings, file: Path, workspace_id: Any, atomic: bool, progress: bool | None
) -> None:
    """Import an NDJSON file of resources, runs and evaluations (one record a line)."""
    from insights.importer import ImportFailed, import_file

    try:
        with write_session(settings) as session:
            report = import_file(session, workspace_id, file, atomic=atomic, progress=progress)
    except ImportFailed as exc:
        raise click.ClickException(exc.message) from exc
    _print_json(report.as_json())


from insights.cli_members import members_group  # noqa: E402 - registers on `main`

main.add_command(members_group)
