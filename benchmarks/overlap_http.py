"""The audience-overlap and summary endpoints over HTTP at CDP scale, beside two floors.

    python -m benchmarks.overlap_http --db sqlite|postgresql|both [--members 10000000]
                                      [--calls 50] [--warmup 5] [--pair-only] [--no-join]

In a fresh database per kind (benchmarks.overlap.fresh_database: a temporary SQLite file, or
a PostgreSQL database `overlap_bench_*` on INSIGHTS_BENCH_PG_URL, dropped after) it stores two
active audiences of --members random IDs out of a universe twice that size and 18 more of
1/10 to all of that size (the audiences of benchmarks.overlap), directly through the library
(`Bench.store_random`, no HTTP upload), and mints a read key. Then it starts the real service
(uvicorn, one worker, 127.0.0.1, a free port, rate limits off; benchmarks.serving's
harness) twice and times --calls sequential requests after --warmup ones on one keep-alive
httpx client:

1. the default caches: GET /healthz (the floor of an HTTP round trip), GET of one audience
   (the floor of an authenticated call: key check, one row, a response model), the overlap
   of the two audiences with their bitmaps cached in the service process, the overlap of the
   first 8 audiences (255 regions), the summary (whose total_members is the union of all 20;
   after the first call the count itself is cached), and /healthz again;
2. INSIGHTS_BITMAP_CACHE_BYTES=0: every call reads and deserialises the blobs from the
   database (on PostgreSQL over the request's connection and INSIGHTS_BITMAP_READ_CONNECTIONS
   more) and the summary unions all 20 again;
3. the gap, in the same database: the pair's intersection as a SQL join over an
   (audience, member) table of their 20M memberships (the peers' way, 3 runs), and
   pyroaring's in-memory intersection of the two bitmaps (the floor); a second table gives
   the endpoint's medians as multiples of the floor and as fractions of the join.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import numpy as np

from benchmarks.insights_bench import Timing, measure, running_service, table
from benchmarks.overlap import Bench, fresh_database, load, median_p95, sql_join
from insights import auth, members
from insights.db import make_engine, make_sessionmakers, migrate, transaction

# label -> median target in ms
TARGETS = {
    "overlap 2 audiences, cached": 5,
    "overlap 2 audiences, from database": 15,
    "overlap 8 audiences, cached": 250,
    "overlap 8 audiences, from database": 250,
    "summary, 20 audiences, cached": 100,
    "summary, 20 audiences, from database": 100,
}


@contextmanager
def service(url: str, cache_bytes: int | None) -> Iterator[str]:
    """benchmarks.insights_bench.running_service with the service's bitmap cache bound set
    (None keeps the default)."""
    settings = {} if cache_bytes is None else {"bitmap_cache_bytes": str(cache_bytes)}
    with running_service(url, **settings) as base:
        yield base


def build(url: str, n: int, many: bool) -> tuple[uuid.UUID, str, list[uuid.UUID]]:
    """The workspace, a read key, and its active audiences: the pair first, then (with
    `many`) the 18 of 1/10 to all of n that benchmarks.overlap adds (its 8-audience report
    takes the first six, the summary's union all 20)."""
    migrate(url)
    started = time.perf_counter()
    bench = Bench(url, n, runs=0)
    universe = 2 * n
    with transaction(bench.write) as session:
        audiences = [bench.store_random(session, name, n, universe) for name in ("R1", "R2")]
    if many:
        sizes = np.linspace(n // 10, n, 18).astype(int)
        with transaction(bench.write) as session:
            audiences += [
                bench.store_random(session, f"X{i}", int(size), universe)
                for i, size in enumerate(sizes)
            ]
    with transaction(bench.write) as session:
        _, key = auth.mint_key(session, bench.ws, "benchmark", "read")
    workspace_id = bench.ws
    bench.engine.dispose()
    print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return workspace_id, key, audiences


def timed(client: httpx.Client, label: str, path: str, args: argparse.Namespace) -> Timing:
    timing = measure(client, path, args.calls, args.warmup)
    return Timing(label, timing.median_ms, timing.p95_ms)


def run(kind: str, args: argparse.Namespace) -> list[Timing]:
    with fresh_database(kind) as url:
        n = args.members
        print(f"{kind}: 2 audiences of {n:,} random members out of {2 * n:,}", file=sys.stderr)
        workspace_id, key, audiences = build(url, n, not args.pair_only)
        print(f"  {load()}", file=sys.stderr)
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
        prefix = f"/api/v1/workspaces/{workspace_id}/insights/audience-overlap?audience_ids="
        pair = prefix + ",".join(str(a) for a in audiences[:2])
        eight = prefix + ",".join(str(a) for a in audiences[:8]) if len(audiences) >= 8 else None
        summary = f"/api/v1/workspaces/{workspace_id}/insights/summary" if eight else None
        timings = []
        with (
            service(url, None) as base,
            httpx.Client(base_url=base, headers=headers, timeout=120) as client,
        ):
            check(client, pair)
            timings.append(measure(client, "/healthz", args.calls, args.warmup))
            one = f"/api/v1/workspaces/{workspace_id}/audiences/{audiences[0]}"
            timings.append(timed(client, "GET one audience (authenticated floor)", one, args))
            timings.append(timed(client, "overlap 2 audiences, cached", pair, args))
            if eight and summary:
                timings.append(timed(client, "overlap 8 audiences, cached", eight, args))
                timings.append(timed(client, "summary, 20 audiences, cached", summary, args))
            timings.append(measure(client, "/healthz", args.calls, args.warmup))
        with (
            service(url, 0) as base,
            httpx.Client(base_url=base, headers=headers, timeout=120) as client,
        ):
            timings.append(timed(client, "overlap 2 audiences, from database", pair, args))
            if eight and summary:
                timings.append(timed(client, "overlap 8 audiences, from database", eight, args))
                timings.append(timed(client, "summary, 20 audiences, from database", summary, args))
        if args.join:
            timings += the_gap(url, workspace_id, audiences[:2], args.calls)
        print(f"  {load()}", file=sys.stderr)
        return timings


def the_gap(url: str, workspace_id: uuid.UUID, pair: list[uuid.UUID], calls: int) -> list[Timing]:
    """In the same database: the pair's intersection as a SQL join over a membership table
    (the peers' way, 3 runs), and as pyroaring's in-memory intersection (the floor)."""
    engine = make_engine(url)
    read, write = make_sessionmakers(engine)
    with read() as session:
        found = members.current_bitmaps(session, workspace_id, pair)
    first, second = (found[audience][1] for audience in pair)
    ids = [np.frombuffer(bitmap.to_array(), dtype=np.uint32) for bitmap in (first, second)]
    join = sql_join(write, ids, 3)
    floor = median_p95(lambda: first.intersection_cardinality(second), calls)
    engine.dispose()
    return [
        Timing("SQL join over a membership table (peers)", *join),
        Timing("pyroaring intersection in memory (floor)", *floor),
    ]


def gap_table(kind: str, timings: list[Timing]) -> str:
    """The endpoint's overlap of the pair against the join and the floor, as ratios."""
    by_label = {timing.path: timing for timing in timings}
    join = by_label.get("SQL join over a membership table (peers)")
    floor = by_label.get("pyroaring intersection in memory (floor)")
    if join is None or floor is None:
        return ""
    lines = [
        f"| {kind}: overlap of 2 x 10M | median ms | p95 ms | x floor | join / this |",
        "|---|---:|---:|---:|---:|",
    ]
    for label in (
        "overlap 2 audiences, cached",
        "overlap 2 audiences, from database",
        "SQL join over a membership table (peers)",
        "pyroaring intersection in memory (floor)",
    ):
        t = by_label[label]
        times_floor = t.median_ms / floor.median_ms
        lines.append(
            f"| {label} | {t.median_ms:.2f} | {t.p95_ms:.2f} | {times_floor:,.0f} "
            f"| {join.median_ms / t.median_ms:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def check(client: httpx.Client, path: str) -> None:
    """One call, to show the endpoint answers what the benchmark thinks it measures."""
    response = client.get(path)
    response.raise_for_status()
    print(f"  response: {len(response.content):,} bytes: {response.text[:300]}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--members", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--no-join", dest="join", action="store_false", help="skip the slow SQL join"
    )
    parser.add_argument(
        "--pair-only", action="store_true", help="only the pair: no 8-audience overlap, no summary"
    )
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        timings = run(kind, args)
        endpoint = [t for t in timings if "(peers)" not in t.path and "(floor)" not in t.path]
        print(table(kind, endpoint, TARGETS, places=2) + "\n", flush=True)
        print(gap_table(kind, timings), flush=True)


if __name__ == "__main__":
    main()
