"""Cheap Insights reads under load over HTTP, beside a bare FastAPI app answering the same
bytes, all in the same run: one process, then `insights serve --workers 2`.

    python -m benchmarks.cached_reads --db sqlite|postgresql|both [--url URL]
        [--seconds 10] [--connections 32]

For each database: builds the workspace of benchmarks.bench_workspace (or takes the kept one
at --url, migrated first), mints a read key, and fires wrk (one thread, --connections
keep-alive connections, --seconds after a 2 s warm-up; a response is counted late rather
than as an error up to 30 s) at the service's summary, an authenticated one-row GET (one
audience) and sync-health?days=7, served by `insights serve` (rate limits off, the periodic
alert pass off) with 1 and 2 workers, and at the bare app of benchmarks.bare_app answering
each of those paths with the service's own bytes for it (no key check, no database) with as
many workers; then, as the same run's reference, the same three with both caches off
(INSIGHTS_REPORT_CACHE_SECONDS=0, INSIGHTS_KEY_CACHE_SECONDS=0) on one worker. Reports
requests a second, p50 and p95 latency and errors (non-2xx and socket errors) of each, each
as a share of the bare app's requests a second for the same bytes with as many workers, and
2 workers over 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from benchmarks.serving import (
    add_database_options,
    bare_app,
    bench_database,
    insights_serve,
    kinds_of,
)
from insights.db import make_engine, make_sessionmakers, transaction
from insights.models import Audience

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


def run(kind: str, args: Any) -> list[Load]:
    with bench_database(kind, args, "cached_reads") as (url, workspace_id, key):
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
        prefix = f"/api/v1/workspaces/{workspace_id}"
        targets = [
            Target("summary", f"{prefix}/insights/summary"),
            Target("one-row GET", f"{prefix}/audiences/{_one_audience(url, workspace_id)}"),
            Target("sync-health?days=7", f"{prefix}/insights/sync-health?days=7"),
        ]
        bodies: dict[str, bytes] = {}
        loads: list[Load] = []
        for workers in (1, 2):
            with insights_serve(url, workers) as base:
                if workers == 1:
                    bodies = answers(base, targets, headers)
                for target in targets:
                    loads.append(measure(target.name, base, target, headers, workers, args))
            with bare_app(bodies, workers) as base:
                for target in targets:
                    name = f"bare FastAPI, {target.name}'s bytes"
                    loads.append(measure(name, base, target, headers, workers, args))
        uncached = {"report_cache_seconds": "0", "key_cache_seconds": "0"}
        with insights_serve(url, 1, **uncached) as base:
            for target in targets:
                name = f"{target.name}, caches off"
                loads.append(measure(name, base, target, headers, 1, args))
        return loads


def answers(base: str, targets: list[Target], headers: dict[str, str]) -> dict[str, bytes]:
    """The service's answer to each target, for the bare app to answer with."""
    return {
        target.path: httpx.get(base + target.path, headers=headers, timeout=120)
        .raise_for_status()
        .content
        for target in targets
    }


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
    add_database_options(parser)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    for kind in kinds_of(args):
        print(table(kind, run(kind, args)) + "\n", flush=True)


if __name__ == "__main__":
    main()
