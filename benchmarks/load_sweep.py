"""Requests per second against many connections: a concurrency sweep of `insights serve`
beside a bare FastAPI app returning the same bytes, measured in the same run.

    python -m benchmarks.load_sweep --db sqlite|postgresql|both [--runs 1000000]
        [--connections 16,32,64,128,256] [--seconds 10] [--workers 1]
        [--keep | --url <kept database>]

Builds the workspace of benchmarks.bench_workspace (1M runs by default; `--runs 100000` for a
quick run) in a fresh database, or reuses a kept one (`--url`, as benchmarks.insights_bench).
Starts `insights serve` (rate limits off, 127.0.0.1, a free port) and the bare app of
benchmarks.bare_app serving the summary's bytes, then for each connection count runs wrk
(Debian's `wrk` package: `apt-get install -y wrk`) for --seconds against the bare app, the
summary and a report endpoint, one after the other, and prints req/s, p50, p95 and errors
(connection errors, timeouts, and statuses of 400 and above: a 503 busy counts) per step.
Before each step it waits until the service holds no connection (the step before's requests
still running when wrk stopped would count against it). A step shows 0 req/s when no
request completed within --seconds: lengthen it for an endpoint slower than that.
wrk runs on the same 2 cores as the service: the figures are a floor."""

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.bench_workspace import Shape
from benchmarks.insights_bench import (
    build,
    existing_workspace,
    fresh_database,
    kept_database,
)

LUA = Path(__file__).with_name("wrk_report.lua")
ENDPOINTS = ("insights/summary", "insights/sync-health?days=7")
WARMUP_SECONDS = 3
WRK_TIMEOUT = "60s"


@dataclass(frozen=True)
class Step:
    """One wrk run: what, at how many connections, and what came back."""

    target: str
    connections: int
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def wrk(
    url: str, connections: int, seconds: int, key: str = "", workspace: str = ""
) -> dict[str, int]:
    """wrk's JSON line (benchmarks/wrk_report.lua) for `seconds` at `connections`."""
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={WRK_TIMEOUT}",
        "-s",
        str(LUA),
        url,
    ]
    env = {**os.environ, "BENCH_KEY": key, "BENCH_WORKSPACE": workspace}
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("{"))
    result: dict[str, int] = json.loads(line)
    return result


def step(target: str, connections: int, raw: dict[str, int]) -> Step:
    errors = sum(raw[name] for name in ("connect", "read", "write", "status", "timeout"))
    return Step(
        target,
        connections,
        raw["requests"],
        raw["duration_us"] / 1e6,
        errors,
        raw["p50_us"] / 1000,
        raw["p95_us"] / 1000,
    )


@contextmanager
def process(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """The base URL of a server process started with `command`, until the block ends."""
    server = subprocess.Popen(command, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"{command[:3]} exited during startup")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[:3]} did not start within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def service(url: str, workers: int, settings: dict[str, str] | None = None) -> Iterator[str]:
    """`insights serve` on this database with `workers` processes (and these settings)."""
    port = free_port()
    insights = shutil.which("insights", path=str(Path(sys.executable).parent)) or "insights"
    command = [insights, "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {
        "INSIGHTS_DATABASE_URL": url,
        "INSIGHTS_RATE_LIMIT_PER_MINUTE": "0",
        "INSIGHTS_RATE_LIMIT_PER_SECOND": "0",
        "INSIGHTS_LOG_LEVEL": "warning",
        **(settings or {}),
    }
    with process([*command, "--workers", str(workers)], env, port) as base:
        yield base


@contextmanager
def bare(body_file: Path) -> Iterator[str]:
    """benchmarks.bare_app answering the bytes of `body_file`."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "benchmarks.bare_app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with process(command, {"INSIGHTS_BARE_BODY": str(body_file)}, port) as base:
        yield base


def sweep(
    kind: str, url: str, workspace_id: uuid.UUID, key: str, args: argparse.Namespace
) -> list[Step]:
    """Every connection count against the bare app and each endpoint, in turn."""
    prefix = f"/api/v1/workspaces/{workspace_id}/"
    steps: list[Step] = []
    with tempfile.TemporaryDirectory() as directory, service(url, args.workers) as base:
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
        body_file = Path(directory) / "summary.json"
        for endpoint in args.endpoints:
            response = httpx.get(base + prefix + endpoint, headers=headers, timeout=120)
            response.raise_for_status()
            if endpoint == ENDPOINTS[0]:
                body_file.write_bytes(response.content)
        if not body_file.exists():
            body_file.write_bytes(response.content)
        with bare(body_file) as floor:
            targets = [("bare FastAPI", floor + "/same-bytes", "", "")]
            targets += [(e, base + prefix + e, key, str(workspace_id)) for e in args.endpoints]
            for _label, target, k, w in targets:
                wrk(target, 16, WARMUP_SECONDS, k, w)
            for connections in args.connections:
                for label, target, k, w in targets:
                    settle(base)
                    result = step(label, connections, wrk(target, connections, args.seconds, k, w))
                    print(f"  {kind} {result}", file=sys.stderr, flush=True)
                    steps.append(result)
    return steps


def settle(base: str, seconds: float = 300) -> None:
    """Waits until the service holds no connection: the requests of the step before, still
    running when wrk stopped, must not count against the next one (the queued ones whose
    clients left are dropped at once)."""
    deadline = time.monotonic() + seconds
    while httpx.get(f"{base}/readyz", timeout=seconds).json().get("connections_in_use", 0):
        if time.monotonic() > deadline:
            raise RuntimeError("the service did not settle")
        time.sleep(0.2)


def table(kind: str, steps: list[Step], endpoints: list[str]) -> str:
    """req/s, p50/p95 ms and errors per connection count; each endpoint's req/s also as a
    share of the bare app's at the same count."""
    header = f"| {kind}: connections | bare FastAPI req/s (p50 / p95 ms) |"
    header += "".join(f" `{e}` req/s, x bare (p50 / p95 ms), errors |" for e in endpoints)
    lines = [header, "|---:|---:|" + "---:|" * len(endpoints)]
    for connections in sorted({s.connections for s in steps}):
        at = {s.target: s for s in steps if s.connections == connections}
        floor = at["bare FastAPI"]
        cells = [f"{floor.per_second:,.0f} ({floor.p50_ms:.1f} / {floor.p95_ms:.1f})"]
        for endpoint in endpoints:
            s = at[endpoint]
            share = s.per_second / floor.per_second
            cells.append(
                f"{s.per_second:,.1f}, {share:.1%} ({s.p50_ms:,.0f} / {s.p95_ms:,.0f}), {s.errors}"
            )
        lines.append(f"| {connections} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=Shape.runs)
    parser.add_argument("--syncs", type=int, default=Shape.syncs)
    parser.add_argument("--audiences", type=int, default=Shape.audiences)
    parser.add_argument(
        "--connections",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[16, 32, 64, 128, 256],
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--endpoints", type=lambda v: v.split(","), default=list(ENDPOINTS))
    parser.add_argument("--keep", action="store_true", help="keep the database, print its URL")
    parser.add_argument("--url", help="sweep a kept database instead of building one")
    parser.add_argument("--build-only", action="store_true", help="with --keep: build, no sweep")
    args = parser.parse_args()
    shape = Shape(syncs=args.syncs, runs=args.runs, audiences=args.audiences)
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    if args.url:
        kinds = ("sqlite" if args.url.startswith("sqlite") else "postgresql",)
    for kind in kinds:
        database = (
            kept_database(args.url) if args.url else fresh_database(kind, args.keep, "load_sweep")
        )
        with database as url:
            if args.url:
                workspace_id, key = existing_workspace(url)
            else:
                print(f"{kind}: building {shape}", file=sys.stderr, flush=True)
                workspace_id, key = build(url, shape)
            if args.keep:
                print(f"  kept: --url {url}", file=sys.stderr, flush=True)
            if args.build_only:
                continue
            print(
                table(kind, sweep(kind, url, workspace_id, key, args), args.endpoints), flush=True
            )


if __name__ == "__main__":
    main()
