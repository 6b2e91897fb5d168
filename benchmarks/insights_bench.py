"""Insights endpoints over HTTP against a large workspace, beside the /healthz floor and
beside the same query without the newer work.

    python -m benchmarks.insights_bench --db sqlite|postgresql|both [--calls 50]

Builds the workspace of benchmarks.bench_workspace in a fresh database (a temporary SQLite
file, or a PostgreSQL database created on INSIGHTS_BENCH_PG_URL and dropped after; --keep
keeps it, --url measures a kept one), starts the real service with uvicorn on a free port
(with benchmarks.baseline_app's extra route; benchmarks.serving does both), and times
each endpoint: median and p95 of --calls sequential requests after --warmup ones. An
endpoint with a baseline gets the ratio of its median to the baseline's, measured in the
same run: sync-health with scores against the published sync-health alone, the section-8
reports against the published sync-health over the same window (the same runs read), the
sync detail against that sync's published entry, audience-velocity against audience-trends.
The report cache is off (each call computes its answer) and so is the periodic alert pass.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from benchmarks.serving import add_database_options, bench_database, kinds_of, service_process

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
def running_service(url: str, **settings: str) -> Iterator[str]:
    """The base URL of the service (benchmarks.serving.service_process) on this database."""
    with service_process(url, **settings) as (base, _pid):
        yield base


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


def run(kind: str, args: argparse.Namespace) -> list[Timing]:
    with (
        bench_database(kind, args, "insights_bench") as (url, workspace_id, key),
        running_service(url) as base,
    ):
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
    add_database_options(parser)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    for kind in kinds_of(args):
        print(ratio_table(kind, run(kind, args)) + "\n", flush=True)


if __name__ == "__main__":
    main()
