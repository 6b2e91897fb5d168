"""What the benchmarks serve and measure against: a server process (`insights serve`, or an app
factory under uvicorn) on a free port of 127.0.0.1, waited for until it answers /healthz and
stopped with SIGTERM; the bare FastAPI app of benchmarks.bare_app answering given bytes; and
the benchmark workspace, built in a fresh database or reused from a kept one.

Each service process gets this process's environment (an INSIGHTS_ setting there reaches it)
with the database URL, rate limits off, warnings only and the periodic alert pass off, then
the settings its caller names."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text

from benchmarks.bench_workspace import WORKSPACE_NAME, Shape, build_workspace
from insights import auth
from insights.db import make_engine, make_sessionmakers, migrate, transaction
from insights.models import Workspace

INSIGHTS = str(Path(sys.executable).parent / "insights")
PG_ADMIN_URL = os.environ.get(
    "INSIGHTS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# The app factory service_process serves: the service plus benchmarks.baseline_app's route;
# another one can be measured the same way.
APP = os.environ.get("INSIGHTS_BENCH_APP", "benchmarks.baseline_app:create_app")
START_SECONDS = 120
STOP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(
    command: list[str], env: Mapping[str, str], port: int, cwd: str | None = None
) -> Iterator[tuple[str, int]]:
    """The base URL and process ID of the server `command` starts on `port`, once it answers
    /healthz (uvicorn answers once the app's start-up is done), until the block ends."""
    process = subprocess.Popen(command, env=dict(env), cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, command)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:  # still answering a queue of slow requests
            process.kill()
            process.wait(timeout=STOP_SECONDS)


def _wait_until_up(base: str, process: subprocess.Popen[bytes], command: list[str]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[:3]} exited during start-up")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{command[:3]} did not answer within {START_SECONDS} s")


def service_env(url: str, **settings: str) -> dict[str, str]:
    """The environment of a service process on the database at `url` (see the module's
    docstring), with these INSIGHTS_ settings (by field name)."""
    env = {
        **os.environ,
        "INSIGHTS_DATABASE_URL": url,
        "INSIGHTS_RATE_LIMIT_PER_MINUTE": "0",
        "INSIGHTS_RATE_LIMIT_PER_SECOND": "0",
        "INSIGHTS_LOG_LEVEL": "warning",
        "INSIGHTS_ALERT_WORKER": "false",
    }
    env.update({f"INSIGHTS_{name.upper()}": value for name, value in settings.items()})
    return env


@contextmanager
def insights_serve(url: str, workers: int = 1, **settings: str) -> Iterator[str]:
    """The base URL of `insights serve --workers <workers>` on this database."""
    with insights_process(url, workers, **settings) as (base, _pid):
        yield base


@contextmanager
def insights_process(url: str, workers: int = 1, **settings: str) -> Iterator[tuple[str, int]]:
    """The base URL and process ID of `insights serve --workers <workers>` (with one worker,
    the process that serves) on this database."""
    port = free_port()
    command = [INSIGHTS, "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    with server(command, service_env(url, **settings), port) as served:
        yield served


@contextmanager
def uvicorn_app(
    factory: str, env: Mapping[str, str], workers: int = 1, cwd: str | None = None
) -> Iterator[tuple[str, int]]:
    """The base URL and process ID of uvicorn serving the app `factory` makes (run in
    `cwd`: `python -m` puts the working directory first on the import path)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--workers", str(workers)]
    with server(command, env, port, cwd) as served:
        yield served


@contextmanager
def service_process(
    url: str, pythonpath: str | None = None, **settings: str
) -> Iterator[tuple[str, int]]:
    """The base URL and process ID of the service (APP under uvicorn, one worker) on this
    database; its code from `pythonpath` first when given (another checkout). Its report
    cache is off: every call computes its report (the cache would answer repeated calls
    from bytes; benchmarks.cached_reads measures that)."""
    env = service_env(url, **{"report_cache_seconds": "0", **settings})
    cwd = None
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
        cwd = pythonpath.split(os.pathsep)[0]  # else `python -m` imports this checkout first
    with uvicorn_app(APP, env, cwd=cwd) as served:
        yield served


@contextmanager
def bare_app(bodies: Mapping[str, bytes], workers: int = 1) -> Iterator[str]:
    """The base URL of benchmarks.bare_app answering each path (with its query) of `bodies`
    with its bytes."""
    with tempfile.TemporaryDirectory(prefix="bare-app-") as directory:
        manifest = {}
        for index, (path, body) in enumerate(bodies.items()):
            file = Path(directory) / f"body-{index}.json"
            file.write_bytes(body)
            manifest[path] = str(file)
        (Path(directory) / "bodies.json").write_text(json.dumps(manifest))
        env = {**os.environ, "INSIGHTS_BENCH_BODIES": str(Path(directory) / "bodies.json")}
        with uvicorn_app("benchmarks.bare_app:create_app", env, workers) as (base, _pid):
            yield base


# --- the benchmark workspace ---------------------------------------------------------------


def add_database_options(parser: argparse.ArgumentParser, runs: int = Shape.runs) -> None:
    """--db, --url, --keep and the workspace's shape (--runs defaults to `runs`)."""
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--url", help="measure a kept database (migrated first), build none")
    parser.add_argument("--keep", action="store_true", help="keep the database, print its URL")
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--syncs", type=int, default=Shape.syncs)
    parser.add_argument("--audiences", type=int, default=Shape.audiences)
    parser.add_argument("--universe", type=int, default=Shape.universe)


def shape_of(args: argparse.Namespace) -> Shape:
    return Shape(syncs=args.syncs, runs=args.runs, audiences=args.audiences, universe=args.universe)


def kinds_of(args: argparse.Namespace) -> tuple[str, ...]:
    """The databases to measure: --db's, or the kind of the kept one at --url."""
    if args.url:
        return ("sqlite" if args.url.startswith("sqlite") else "postgresql",)
    return ("sqlite", "postgresql") if args.db == "both" else (args.db,)


@contextmanager
def bench_database(
    kind: str, args: argparse.Namespace, prefix: str
) -> Iterator[tuple[str, uuid.UUID, str]]:
    """The URL of a database with the benchmark workspace, the workspace's ID and a read key:
    the kept one at --url (migrated first), or a fresh one built to the shape of `args`,
    removed afterwards unless --keep."""
    if args.url:
        migrate(args.url)
        yield (args.url, *existing_workspace(args.url))
        return
    with fresh_database(kind, args.keep, prefix) as url:
        print(f"{kind}: building {shape_of(args)}", file=sys.stderr, flush=True)
        workspace_id, key = build(url, shape_of(args))
        if args.keep:
            print(f"  kept: --url {url} (workspace {workspace_id})", file=sys.stderr, flush=True)
        yield url, workspace_id, key


@contextmanager
def fresh_database(kind: str, keep: bool = False, prefix: str = "insights_bench") -> Iterator[str]:
    """The URL of an empty database, removed afterwards unless `keep`. Each benchmark has its
    own name prefix, so that no other benchmark's clean-up takes its database."""
    if kind == "sqlite":
        directory = tempfile.mkdtemp(prefix=f"{prefix}-")
        try:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"
        finally:
            if not keep:
                shutil.rmtree(directory)
        return
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def existing_workspace(url: str) -> tuple[uuid.UUID, str]:
    """The benchmark workspace of a kept database, and a new read key for it."""
    engine = make_engine(url)
    with transaction(make_sessionmakers(engine)[1]) as session:
        query = select(Workspace.id).where(Workspace.name == WORKSPACE_NAME)
        workspace_id = session.scalars(query).one()
        _, key = auth.mint_key(session, workspace_id, "benchmark", "read")
    engine.dispose()
    return workspace_id, key


def build(url: str, shape: Shape) -> tuple[uuid.UUID, str]:
    """Migrates the database at `url` and builds the benchmark workspace in it: its ID and a
    read key."""
    migrate(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with transaction(make_sessionmakers(engine)[1]) as session:
        workspace_id, key = build_workspace(session, shape)
    if not url.startswith("sqlite"):
        # What autovacuum does soon after a bulk load: statistics for the planner, and the
        # visibility map that lets index-only scans skip the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return workspace_id, key
