"""Insights endpoints over HTTP against a large workspace, beside the /healthz floor and
beside the same query without the newer work.

    python -m benchmarks.insights_bench --db sqlite|postgresql|both [--calls 50]

Builds the workspace of benchmarks.bench_workspace in a fresh database (a temporary SQLite
file, or a PostgreSQL database created on --pg-url and dropped after), starts the real
service with uvicorn on a free port (with benchmarks.baseline_app's extra route), and times
each endpoint: median and p95 of --calls sequential requests after --warmup ones. An
endpoint with a baseline gets the ratio of its median to the baseline's, measured in the
same run: sync-health with scores against the published sync-health alone, the section-8
reports against the published sync-health over the same window (the same runs read), the
sync detail against that sync's published entry, audience-velocity against audience-trends.
The report cache is off (each call computes its answer) and so is the periodic alert pass.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text

from benchmarks.bench_workspace import WORKSPACE_NAME, Shape, build_workspace
from insights import auth
from insights.db import make_engine, make_sessionmakers, migrate, transaction
from insights.models import Workspace

PG_ADMIN_URL = os.environ.get(
    "INSIGHTS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# The app factory uvicorn serves; another one can be measured the same way.
APP = os.environ.get("INSIGHTS_BENCH_APP", "benchmarks.baseline_app:create_app")
PUBLISHED = "bench/published-sync-health"


@dataclass(frozen=True)
class Endpoint:
    """A path under /api/v1/workspaces/{id}/ ({sync} is a sync's ID), its target median
    in ms, and the path of the same query without the newer work."""

    path: str
    target_ms: int | None = None
    baseline: str | None = None


ENDPOINTS = [
    Endpoint("insights/summary", 50),
    Endpoint("insights/activation-coverage", 50),
    # Read through the rollups (issue 13): O(syncs x days), targets 30 / 60 / 60 ms.
    Endpoint("insights/sync-health?days=7", 30, f"{PUBLISHED}?days=7"),
    Endpoint("insights/sync-health?days=90", 60, f"{PUBLISHED}?days=90"),
    Endpoint("insights/sync-health?days=365", 60, f"{PUBLISHED}?days=365"),
    Endpoint("insights/audience-trends?days=30", 150),
    Endpoint("insights/audience-trends?days=365", 60),
    Endpoint("insights/sync-duration?days=30", 150, f"{PUBLISHED}?days=30"),
    Endpoint("insights/sync-throughput?days=30", 150, f"{PUBLISHED}?days=30"),
    Endpoint("insights/sync-sla?days=30", 150, f"{PUBLISHED}?days=30"),
    Endpoint("insights/audience-velocity?days=30", 150, "insights/audience-trends?days=30"),
    Endpoint("insights/syncs/{sync}?days=30", 100, f"{PUBLISHED}?days=30&sync_id={{sync}}"),
]


@dataclass
class Timing:
    path: str
    median_ms: float
    p95_ms: float


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


@contextmanager
def kept_database(url: str) -> Iterator[str]:
    yield url


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_service(url: str) -> Iterator[str]:
    """The base URL of the service (uvicorn, one worker) on this database."""
    with service_process(url) as (base, _pid):
        yield base


@contextmanager
def service_process(url: str) -> Iterator[tuple[str, int]]:
    """running_service, with the process ID of the service (to watch its memory)."""
    port = _free_port()
    env = {
        **os.environ,
        "INSIGHTS_DATABASE_URL": url,
        "INSIGHTS_RATE_LIMIT_PER_MINUTE": "0",
        "INSIGHTS_RATE_LIMIT_PER_SECOND": "0",
        "INSIGHTS_LOG_LEVEL": "warning",
        # Every call computes its report: the report cache would answer repeated calls
        # from bytes (benchmarks.cached_reads measures that).
        "INSIGHTS_REPORT_CACHE_SECONDS": "0",
        "INSIGHTS_ALERT_WORKER": "false",
    }
    options = f"--factory --host 127.0.0.1 --port {port} --log-level warning"
    command = [sys.executable, "-m", "uvicorn", APP, *options.split()]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        yield base, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the service exited during startup")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the service did not start within 60 s")


def measure(client: httpx.Client, path: str, calls: int, warmup: int) -> Timing:
    for _ in range(warmup):
        client.get(path).raise_for_status()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(path, statistics.median(samples), p95)


def run(kind: str, shape: Shape, args: argparse.Namespace) -> list[Timing]:
    database = kept_database(args.url) if args.url else fresh_database(kind, args.keep)
    with database as url:
        if args.url:
            workspace_id, key = existing_workspace(url)
        else:
            print(f"{kind}: building {shape}", file=sys.stderr)
            workspace_id, key = build(url, shape)
        if args.keep:
            print(f"  kept: INSIGHTS_DATABASE_URL={url} workspace {workspace_id}", file=sys.stderr)
        with running_service(url) as base:
            headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                return measure_all(client, workspace_id, args.calls, args.warmup)


def measure_all(
    client: httpx.Client, workspace_id: uuid.UUID, calls: int, warmup: int
) -> list[Timing]:
    """Each endpoint and each baseline, between two measurements of the /healthz floor."""
    prefix = f"/api/v1/workspaces/{workspace_id}/"
    sync = client.get(prefix + "syncs", params={"status": "active"}).json()["data"][0]["id"]
    paths = [e.path for e in ENDPOINTS] + sorted({e.baseline for e in ENDPOINTS if e.baseline})
    timings = [measure(client, "/healthz", calls, warmup)]
    for path in paths:
        timing = measure(client, prefix + path.format(sync=sync), calls, warmup)
        timings.append(Timing(path, timing.median_ms, timing.p95_ms))
    timings.append(measure(client, "/healthz", calls, warmup))
    return timings


def ratio_table(kind: str, timings: list[Timing]) -> str:
    """The endpoints' medians and p95, as multiples of /healthz and of their baselines."""
    by_path = {timing.path: timing for timing in timings}
    floor = min(t.median_ms for t in timings if t.path == "/healthz")
    lines = [
        f"| {kind} | median ms | p95 ms | x /healthz | x baseline | target (median) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for endpoint in ENDPOINTS:
        timing = by_path[endpoint.path]
        base = by_path.get(endpoint.baseline or "")
        ratio = f"{timing.median_ms / base.median_ms:.2f}" if base else ""
        verdict = ""
        if endpoint.target_ms is not None:
            met = "ok" if timing.median_ms < endpoint.target_ms else "MISSED"
            verdict = f"< {endpoint.target_ms} ms {met}"
        lines.append(
            f"| {endpoint.path} | {timing.median_ms:.1f} | {timing.p95_ms:.1f} | "
            f"{timing.median_ms / floor:.1f} | {ratio} | {verdict} |"
        )
    for path in sorted({e.baseline for e in ENDPOINTS if e.baseline}):
        timing = by_path[path]
        lines.append(
            f"| {path} (baseline) | {timing.median_ms:.1f} | {timing.p95_ms:.1f} | "
            f"{timing.median_ms / floor:.1f} | 1 | |"
        )
    return "\n".join(lines)


def table(
    kind: str, timings: list[Timing], targets: dict[str, int] | None = None, places: int = 1
) -> str:
    """A Markdown table of the timings, each median also as a multiple of /healthz's."""
    targets = targets or {}
    floor = min(t.median_ms for t in timings if t.path == "/healthz")
    lines = [
        f"| {kind} | median ms | p95 ms | x /healthz | target (median) |",
        "|---|---:|---:|---:|---|",
    ]
    for timing in timings:
        target = targets.get(timing.path)
        verdict = (
            ""
            if target is None
            else f"< {target} ms {'ok' if timing.median_ms < target else 'MISSED'}"
        )
        lines.append(
            f"| {timing.path} | {timing.median_ms:.{places}f} | {timing.p95_ms:.{places}f} | "
            f"{timing.median_ms / floor:.1f} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--syncs", type=int, default=Shape.syncs)
    parser.add_argument("--runs", type=int, default=Shape.runs)
    parser.add_argument("--audiences", type=int, default=Shape.audiences)
    parser.add_argument("--universe", type=int, default=Shape.universe)
    parser.add_argument("--keep", action="store_true", help="keep the database, print its URL")
    parser.add_argument("--url", help="measure a kept database instead of building one")
    args = parser.parse_args()
    shape = Shape(
        syncs=args.syncs, runs=args.runs, audiences=args.audiences, universe=args.universe
    )
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    if args.url:
        kinds = ("sqlite" if args.url.startswith("sqlite") else "postgresql",)
    for kind in kinds:
        print(ratio_table(kind, run(kind, shape, args)) + "\n", flush=True)


if __name__ == "__main__":
    main()
