"""Requests per second against many connections: a concurrency sweep of `insights serve`
beside a bare FastAPI app returning the same bytes, measured in the same run.

    python -m benchmarks.load_sweep --db sqlite|postgresql|both [--runs 1000000]
        [--connections 16,32,64,128,256] [--seconds 10] [--workers 1]
        [--keep | --url <kept database>]

Builds the workspace of benchmarks.bench_workspace (1M runs by default; `--runs 100000` for a
quick run) in a fresh database, or reuses a kept one (`--url`, as benchmarks.insights_bench).
Starts `insights serve` (rate limits and the periodic alert pass off, 127.0.0.1, a free port;
benchmarks.serving) and the bare app of benchmarks.bare_app answering the summary's bytes at
its path, then for each connection count runs wrk
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
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.serving import (
    add_database_options,
    bare_app,
    bench_database,
    insights_serve,
    kinds_of,
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


def sweep(
    kind: str, url: str, workspace_id: uuid.UUID, key: str, args: argparse.Namespace
) -> list[Step]:
    """Every connection count against the bare app and each endpoint, in turn."""
    prefix = f"/api/v1/workspaces/{workspace_id}/"
    steps: list[Step] = []
    with insights_serve(url, args.workers) as base:
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
        bodies = {}
        for endpoint in args.endpoints:
            response = httpx.get(base + prefix + endpoint, headers=headers, timeout=120)
            bodies[prefix + endpoint] = response.raise_for_status().content
        # The floor answers the summary's bytes (or the first endpoint's, without it).
        same = ENDPOINTS[0] if ENDPOINTS[0] in args.endpoints else args.endpoints[0]
        with bare_app(bodies) as floor:
            targets = [("bare FastAPI", floor + prefix + same, "", "")]
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
    add_database_options(parser)
    parser.add_argument(
        "--connections",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[16, 32, 64, 128, 256],
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--endpoints", type=lambda v: v.split(","), default=list(ENDPOINTS))
    parser.add_argument("--build-only", action="store_true", help="with --keep: build, no sweep")
    args = parser.parse_args()
    for kind in kinds_of(args):
        with bench_database(kind, args, "load_sweep") as (url, workspace_id, key):
            if not args.build_only:
                steps = sweep(kind, url, workspace_id, key, args)
                print(table(kind, steps, args.endpoints), flush=True)


if __name__ == "__main__":
    main()
