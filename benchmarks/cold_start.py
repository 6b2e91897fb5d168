"""The first request of a fresh process against warm ones, with the warm-up on and off.

    python -m benchmarks.cold_start --db sqlite|postgresql|both [--rounds 5] [--calls 20]
        [--runs 100000] [--url <kept database>]

For each round, endpoint (the overlap of two audiences, the summary) and INSIGHTS_WARM_UP
(off, on), in that order, it starts a new `insights serve` process on the benchmark
workspace (benchmarks.bench_workspace, or a kept database with --url), waits until it
answers /healthz (uvicorn answers only once the lifespan's warm-up is done), then times the
first request of the endpoint and --calls more, with the report cache and the member bitmap
cache off (every request computes its answer from the database, the first like the warm
ones: what is left is the process's coldness). Before each process starts, the key's
last_used_at is set to now, so that no first request pays the key's once-a-minute write.
Prints, per setting, the first requests' median and p95 over the rounds, the warm requests'
median and p95, the first-to-warm ratio, and how long the process took to answer."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select, update

from benchmarks.serving import add_database_options, bench_database, insights_serve, kinds_of
from insights.db import make_engine, make_sessionmakers, transaction
from insights.models import ApiKey, Audience, utcnow


@dataclass
class Samples:
    """One setting's first requests (one per process), warm requests, and start times."""

    first: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    start: list[float] = field(default_factory=list)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed_get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def key_used_now(url: str, workspace_id: uuid.UUID) -> None:
    """Every key of the workspace used a moment ago: no request pays the last_used_at write."""
    engine = make_engine(url)
    with transaction(make_sessionmakers(engine)[1]) as session:
        stamp = update(ApiKey).where(ApiKey.workspace_id == workspace_id)
        session.execute(stamp.values(last_used_at=utcnow()))
    engine.dispose()


def two_audiences(url: str, workspace_id: uuid.UUID) -> list[uuid.UUID]:
    engine = make_engine(url)
    with transaction(make_sessionmakers(engine)[0]) as session:
        query = (
            select(Audience.id)
            .where(Audience.workspace_id == workspace_id, Audience.status == "active")
            .order_by(Audience.name)
            .limit(2)
        )
        found = list(session.scalars(query))
    engine.dispose()
    return found


def one_process(
    url: str, headers: dict[str, str], path: str, warm_up: bool, calls: int, into: Samples
) -> None:
    # Without the caches of data (answers, member bitmaps): a fresh process cannot have the
    # data cached, and warm requests answered from it would be no reference for a first one
    # that reads it. What is left to compare is what a process's coldness itself costs.
    settings = {
        "warm_up": "true" if warm_up else "false",
        "report_cache_seconds": "0",
        "bitmap_cache_bytes": "0",
    }
    started = time.perf_counter()
    with (
        insights_serve(url, **settings) as base,
        httpx.Client(base_url=base, headers=headers, timeout=120) as c,
    ):
        into.start.append((time.perf_counter() - started) * 1000)
        into.first.append(timed_get(c, path))
        into.warm += [timed_get(c, path) for _ in range(calls)]


def run(kind: str, args: argparse.Namespace) -> dict[tuple[str, bool], Samples]:
    with bench_database(kind, args, "cold_start") as (url, workspace_id, key):
        pair = ",".join(str(a) for a in two_audiences(url, workspace_id))
        prefix = f"/api/v1/workspaces/{workspace_id}/insights/"
        paths = {"overlap": f"{prefix}audience-overlap?audience_ids={pair}"}
        paths["summary"] = f"{prefix}summary"
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
        results: dict[tuple[str, bool], Samples] = {}
        for round_number in range(args.rounds):
            for name, path in paths.items():
                for warm_up in (False, True):
                    key_used_now(url, workspace_id)
                    samples = results.setdefault((name, warm_up), Samples())
                    one_process(url, headers, path, warm_up, args.calls, samples)
            print(f"  {kind}: round {round_number + 1} done", file=sys.stderr, flush=True)
        return results


def table(kind: str, results: dict[tuple[str, bool], Samples]) -> str:
    lines = [
        f"| {kind} | warm-up | first request ms, median (p95) | warm ms, median (p95) "
        "| first / warm | process answers after ms, median |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (name, warm_up), s in results.items():
        first, warm = statistics.median(s.first), statistics.median(s.warm)
        lines.append(
            f"| {name} | {'on' if warm_up else 'off'} | {first:.1f} ({p95(s.first):.1f}) "
            f"| {warm:.1f} ({p95(s.warm):.1f}) | {first / warm:.2f} "
            f"| {statistics.median(s.start):,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_options(parser, runs=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    for kind in kinds_of(args):
        print(table(kind, run(kind, args)), flush=True)


if __name__ == "__main__":
    main()
