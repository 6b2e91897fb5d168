"""The service's own commands: serve, migrate, workspace and key bootstrap, demo, import."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from insights import alerts, auth, workspaces
from insights.cli.base import main, print_json, write_factory, write_session
from insights.demo import ensure_demo
from insights.importer import import_file
from insights.metrics import shared_by_processes
from insights.schemas.workspaces import Scope
from insights.settings import Settings

# A spawned worker answers uvicorn's health pings only once it has imported the package; on
# a busy machine that takes longer than uvicorn's 5 s, and the workers were killed in a loop.
WORKER_HEALTHCHECK_SECONDS = 30


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

    from insights.cli.listeners import run_workers

    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": settings.log_level,
        "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
    }
    # uvicorn spawns its workers: each imports the metrics anew, in multiprocess mode.
    with shared_by_processes(workers):
        if workers > 1 and run_workers(uvicorn.Config("insights.app:create_app", **options)):
            return
        uvicorn.run("insights.app:create_app", **options)


@main.group()
def workspace() -> None:
    """Manage workspaces."""


@workspace.command("create")
@click.argument("name")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone.")
@click.pass_obj
def create_workspace(settings: Settings, name: str, timezone: str) -> None:
    """Create a workspace and its first admin key; prints both as JSON."""
    with write_session(settings) as session:
        ws = workspaces.create_workspace(session, name, timezone)
        _, raw = auth.mint_key(session, ws.id, "admin (bootstrap)", "admin")
        workspace_id = ws.id
    print_json({"workspace_id": str(workspace_id), "api_key": raw})


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
    with write_session(settings) as session:
        workspaces.get_workspace(session, workspace_id)
        api_key, raw = auth.mint_key(session, workspace_id, name, scope)
        key_id = api_key.id
    print_json({"id": str(key_id), "api_key": raw})


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
    with write_session(ctx.obj) as session:
        result = ensure_demo(session, scale=scale, seed=seed)
    print_json(result.as_json())
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
    # When the database goes away mid-batch, psycopg logs that it could not end its
    # pipeline; the command's own one-line error says it all.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    with write_session(settings) as session:
        report = import_file(session, workspace_id, file, atomic=atomic, progress=progress)
    with write_factory(settings) as write:  # the import writes in bulk, past the tracking
        alerts.evaluate_all(write, workspace_id)
    print_json(report.as_json())
