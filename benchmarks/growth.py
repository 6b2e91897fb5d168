"""How sync-health and audience-trends grow with the workspace: the same endpoints on two
kept benchmark databases, one the default shape and one with ten times the syncs and
audiences, served one after the other in the same run, and the ratio of their medians.

    python -m benchmarks.insights_bench --db sqlite --keep --calls 3            # the 1x
    python -m benchmarks.insights_bench --db sqlite --keep --calls 3 \\
        --syncs 10000 --audiences 2000                                          # the 10x
    python -m benchmarks.growth --small <1x URL> --large <10x URL> [--calls 15]

Both databases are migrated to this checkout's schema first.

The report cache is off (as in insights_bench): every call computes its answer.
"""

from __future__ import annotations

import argparse

import httpx

from benchmarks.insights_bench import Timing, measure, running_service
from benchmarks.serving import existing_workspace
from insights.db import migrate

PATHS = (
    "insights/sync-health?days=7",
    "insights/sync-health?days=90",
    "insights/sync-health?days=365",
    "insights/audience-trends?days=30",
    "insights/audience-trends?days=365",
)


def timings(url: str, calls: int, warmup: int) -> dict[str, Timing]:
    """Each of PATHS on the benchmark workspace of the database at `url` (migrated first,
    as insights_bench --url does: a schema behind the code would measure the old one)."""
    migrate(url)
    workspace_id, key = existing_workspace(url)
    headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
    with (
        running_service(url) as base,
        httpx.Client(base_url=base, headers=headers, timeout=300) as client,
    ):
        prefix = f"/api/v1/workspaces/{workspace_id}/"
        return {path: measure(client, prefix + path, calls, warmup) for path in PATHS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", required=True, help="URL of the kept 1x database")
    parser.add_argument("--large", required=True, help="URL of the kept 10x database")
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    small = timings(args.small, args.calls, args.warmup)
    large = timings(args.large, args.calls, args.warmup)
    print("| endpoint | 1x median (p95) ms | 10x median (p95) ms | growth |")
    print("|---|---|---|---:|")
    for path in PATHS:
        one, ten = small[path], large[path]
        print(
            f"| {path} | {one.median_ms:.1f} ({one.p95_ms:.1f}) | "
            f"{ten.median_ms:.1f} ({ten.p95_ms:.1f}) | {ten.median_ms / one.median_ms:.1f}x |"
        )


if __name__ == "__main__":
    main()
