"""Cheap Insights reads under load over HTTP, beside a bare FastAPI app answering the same
bytes, all in the same run: one process, then `insights serve --workers 2`.

    python -m benchmarks.cached_reads --db sqlite|postgresql|both [--url URL]
        [--seconds 10] [--connections 32]

For each database: builds the workspace of benchmarks.bench_workspace (or takes the kept one
at --url, migrated first), mints a read key, and fires wrk (one thread, --connections
keep-alive connections, --seconds after a 2 s warm-up; a response is counted late rather
than as an error up to 30 s) at the service's summary, an authenticated one-row GET (one
audience) and sync-health?days=7, served by `insights serve` (rate limits off, the periodic
alert pass off) with 1 and 2 workers, and at the bare app of benchmarks.bare_paths_app answering
each of those paths with the service's own bytes for it (no key check, no database) with as
many workers; then, as the same run's reference, the same three with both caches off
(INSIGHTS_REPORT_CACHE_SECONDS=0, INSIGHTS_KEY_CACHE_SECONDS=0) on one worker. Reports
requests a second, p50 and p95 latency and errors (non-2xx and socket errors) of each, each
as a share of the bare app's requests a second for the same bytes with as many workers, and
2 workers over 1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from benchmarks.bench_workspace import Shape
from benchmarks.insights_bench import build, existing_workspace, fresh_database, kept_database
from insights.db import make_engine, make_sessionmakers, migrate, transaction
from insights.models import Audience

INSIGHTS = str(Path(sys.executable).parent / "insights")
WARMUP_SECONDS = 2
# wrk's summary as one line: requests, seconds, errors, then latency percentiles in µs.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format("RESULT %d %f %d %d %d\\n", summary.requests,
    summary.duration / 1e6, errors, latency:percentile(50), latency:percentile(95)))
end
"""


@dataclass(frozen=True)
class Load:
    """What wrk measured of one target."""

    name: str
    workers: int
    per_second: float
    p50_ms: float
    p95_ms: float
    errors: int


@dataclass(frozen=True)
class Target:
    name: str
    path: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """The base URL of the server `command` starts, until the block ends."""
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"{command[0]} exited during startup")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start within 120 s")
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still answering a queue of slow requests
            server.kill()
            server.wait(timeout=30)


def service(url: str, workers: int, **settings: str) -> tuple[list[str], dict[str, str], int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHTS_")}
    env.update(
        INSIGHTS_DATABASE_URL=url,
        INSIGHTS_RATE_LIMIT_PER_MINUTE="0",
        INSIGHTS_RATE_LIMIT_PER_SECOND="0",
        INSIGHTS_LOG_LEVEL="warning",
        INSIGHTS_ALERT_WORKER="false",
    )
    env.update({f"INSIGHTS_{name.upper()}": value for name, value in settings.items()})
    command = [INSIGHTS, "serve", "--host", "127.0.0.1", "--port", str(port)]
    return [*command, "--workers", str(workers)], env, port


def bare(bodies: Path, workers: int) -> tuple[list[str], dict[str, str], int]:
    port = _free_port()
    env = {**os.environ, "INSIGHTS_BENCH_BODIES": str(bodies)}
    options = f"--factory --host 127.0.0.1 --port {port} --log-level warning --workers {workers}"
    command = [sys.executable, "-m", "uvicorn", "benchmarks.bare_paths_app:create_app"]
    return [*command, *options.split()], env, port


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> list[float]:
    """[requests, seconds, errors, p50 µs, p95 µs] of wrk against `url`."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    options = [f"-H{name}: {value}" for name, value in headers.items()]
    base = ["wrk", "-t1", f"-c{connections}", "--timeout", "30s", *options, "-s", script.name]
    try:
        subprocess.run([*base, f"-d{WARMUP_SECONDS}s", url], capture_output=True, check=True)
        done = subprocess.run([*base, f"-d{seconds}s", url], capture_output=True, text=True)
    finally:
        os.unlink(script.name)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    return [float(x) for x in line.split()[1:]]


def measure(
    name: str, base: str, target: Target, headers: dict[str, str], workers: int, args: Any
) -> Load:
    response = httpx.get(base + target.path, headers=headers, timeout=120)
    response.raise_for_status()  # the first answer computes and caches it
    requests, seconds, errors, p50, p95 = wrk(
        base + target.path, headers, args.seconds, args.connections
    )
    load = Load(name, workers, requests / seconds, p50 / 1000, p95 / 1000, int(errors))
    print(f"  {load}", file=sys.stderr, flush=True)
    return load


def _one_audience(url: str, workspace_id: uuid.UUID) -> uuid.UUID:
    engine = make_engine(url)
    with transaction(make_sessionmakers(engine)[0]) as session:
        query = select(Audience.id).where(Audience.workspace_id == workspace_id).limit(1)
        audience_id = session.scalars(query).one()
    engine.dispose()
    return audience_id


def run(kind: str, shape: Shape, args: Any) -> list[Load]:
    database = kept_database(args.url) if args.url else fresh_database(kind, prefix="cached_reads")
    with database as url, tempfile.TemporaryDirectory() as scratch:
        if args.url:
            migrate(url)
        else:
            print(f"{kind}: building {shape}", file=sys.stderr)
            build(url, shape)
        workspace_id, key = existing_workspace(url)
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
        prefix = f"/api/v1/workspaces/{workspace_id}"
        targets = [
            Target("summary", f"{prefix}/insights/summary"),
            Target("one-row GET", f"{prefix}/audiences/{_one_audience(url, workspace_id)}"),
            Target("sync-health?days=7", f"{prefix}/insights/sync-health?days=7"),
        ]
        bodies = Path(scratch) / "bodies.json"
        loads: list[Load] = []
        for workers in (1, 2):
            with serving(*service(url, workers)) as base:
                if workers == 1:
                    save_bodies(base, targets, headers, bodies)
                for target in targets:
                    loads.append(measure(target.name, base, target, headers, workers, args))
            with serving(*bare(bodies, workers)) as base:
                for target in targets:
                    name = f"bare FastAPI, {target.name}'s bytes"
                    loads.append(measure(name, base, target, headers, workers, args))
        uncached = {"report_cache_seconds": "0", "key_cache_seconds": "0"}
        with serving(*service(url, 1, **uncached)) as base:
            for target in targets:
                name = f"{target.name}, caches off"
                loads.append(measure(name, base, target, headers, 1, args))
        return loads


def save_bodies(base: str, targets: list[Target], headers: dict[str, str], to: Path) -> None:
    """The service's answer to each target, for the bare app to answer with."""
    manifest = {}
    for index, target in enumerate(targets):
        body = to.parent / f"body-{index}.json"
        response = httpx.get(base + target.path, headers=headers, timeout=120)
        body.write_bytes(response.raise_for_status().content)
        manifest[target.path] = str(body)
    to.write_text(json.dumps(manifest))


def table(kind: str, loads: list[Load]) -> str:
    bare_rate = {
        (x.name.split(", ", 1)[1].removesuffix("'s bytes"), x.workers): x.per_second
        for x in loads
        if x.name.startswith("bare")
    }
    one = {x.name: x.per_second for x in loads if x.workers == 1}
    lines = [
        f"| {kind} | workers | req/s | p50 ms | p95 ms | errors | % of bare | 2 workers / 1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for x in loads:
        endpoint = x.name.removesuffix(", caches off")
        if x.name.startswith("bare"):
            endpoint = x.name.split(", ", 1)[1].removesuffix("'s bytes")
        share = 100 * x.per_second / bare_rate[(endpoint, x.workers)]
        scale = f"{x.per_second / one[x.name]:.2f}" if x.workers == 2 else ""
        lines.append(
            f"| {x.name} | {x.workers} | {x.per_second:,.0f} | {x.p50_ms:.2f} | "
            f"{x.p95_ms:.2f} | {x.errors} | {share:.0f}% | {scale} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--url", help="measure a kept database (migrated first)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--syncs", type=int, default=Shape.syncs)
    parser.add_argument("--runs", type=int, default=Shape.runs)
    parser.add_argument("--audiences", type=int, default=Shape.audiences)
    parser.add_argument("--universe", type=int, default=Shape.universe)
    args = parser.parse_args()
    shape = Shape(
        syncs=args.syncs, runs=args.runs, audiences=args.audiences, universe=args.universe
    )
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    if args.url:
        kinds = ("sqlite" if args.url.startswith("sqlite") else "postgresql",)
    for kind in kinds:
        print(table(kind, run(kind, shape, args)) + "\n", flush=True)


if __name__ == "__main__":
    main()
