"""The first request of a fresh process against warm ones, with the warm-up on and off.

    python -m benchmarks.cold_start --db sqlite|postgresql|both [--rounds 5] [--calls 20]
        [--paced 5] [--runs 100000] [--url <kept database>] [--endpoints overlap,summary]
        [--warm-up both|on|off] [--key-cache]

For each round, endpoint (the overlap of two audiences, the summary) and INSIGHTS_WARM_UP
(off, on), in that order, it starts a new `insights serve` process on the benchmark
workspace (benchmarks.bench_workspace, or a kept database with --url), waits until it
answers /healthz (uvicorn answers only once the lifespan's warm-up is done), then times the
first request of the endpoint (on a client connection already open), --calls more back to
back, and --paced more each after a pause (PAUSE_SECONDS, then /healthz, as before the first
request), with
the report cache, the member bitmap cache and the checked-key cache off (every request
checks its key and computes its answer from the database, the first like the warm ones:
what is left is the process's coldness; --key-cache keeps the key cache on). Before each
process starts, the key's last_used_at is set to now, so that no first request pays the
key's once-a-minute write.
Prints, per setting, the first requests' median and p95 over the rounds, the warm requests'
median and p95, the first-to-warm ratio, the same for the CPU time the service process spent
on each request (Linux: its threads' schedstat; on a loaded machine the wall-clock time is
mostly waiting for a core, the CPU time is not), and how long the process took to answer
(and the CPU time it had spent by then: imports, the app, the warm-up). The paced requests
are the control for the first one: a warm process's request after a pause, which finds the
CPU's caches cold as the first does (back-to-back requests find them hot, and on a quiet
machine that alone made a request up to ~1.3x faster); the first request's CPU time
against theirs is what the process's freshness costs, beside the back-to-back ratio."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select, update

from benchmarks.serving import add_database_options, bench_database, insights_process, kinds_of
from insights.db import make_engine, make_sessionmakers, transaction
from insights.models import ApiKey, Audience, utcnow

WARM_UPS = {"both": (False, True), "on": (True,), "off": (False,)}
PAUSE_SECONDS = 0.3


@dataclass
class Samples:
    """One setting's first requests (one per process), warm requests, and start times; the
    requests' wall-clock ms and the service process's CPU ms for each; the CPU ms of warm
    requests made after a pause."""

    first: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    first_cpu: list[float] = field(default_factory=list)
    warm_cpu: list[float] = field(default_factory=list)
    start_cpu: list[float] = field(default_factory=list)
    paced_cpu: list[float] = field(default_factory=list)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed_get(client: httpx.Client, path: str, pid: int) -> tuple[float, float]:
    """The request's wall-clock ms, and the CPU ms the service process spent meanwhile."""
    cpu, started = cpu_ms(pid), time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, cpu_ms(pid) - cpu


def cpu_ms(pid: int) -> float:
    """The CPU time the process's threads have had so far (Linux's schedstat, in ns): what
    a request costs the process, whatever the machine's other load made it wait."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[0])
        except (OSError, ValueError, IndexError):  # a thread that has just ended
            continue
    return total / 1e6


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
    url: str,
    headers: dict[str, str],
    path: str,
    warm_up: bool,
    args: argparse.Namespace,
    into: Samples,
) -> None:
    # Without the caches of data (answers, member bitmaps, checked keys): a fresh process
    # cannot have the data cached, and warm requests answered from it would be no reference
    # for a first one that reads it. What is left to compare is what a process's coldness
    # itself costs. --key-cache keeps the checked keys: warm requests then check their key
    # on the event loop, which a process's first request of a key never can.
    settings = {
        "warm_up": "true" if warm_up else "false",
        "report_cache_seconds": "0",
        "bitmap_cache_bytes": "0",
    }
    if not args.key_cache:
        settings["key_cache_seconds"] = "0"
    started = time.perf_counter()
    with (
        insights_process(url, **settings) as (base, pid),
        httpx.Client(base_url=base, headers=headers, timeout=120) as c,
    ):
        into.start.append((time.perf_counter() - started) * 1000)
        into.start_cpu.append(cpu_ms(pid))
        # The client's connection opened first (/healthz has been answered already): the
        # first request's time is then the service's, not the TCP handshake's.
        c.get("/healthz").raise_for_status()
        wall, cpu = timed_get(c, path, pid)
        into.first.append(wall)
        into.first_cpu.append(cpu)
        for _ in range(args.calls):
            wall, cpu = timed_get(c, path, pid)
            into.warm.append(wall)
            into.warm_cpu.append(cpu)
        for _ in range(args.paced):
            time.sleep(PAUSE_SECONDS)
            c.get("/healthz").raise_for_status()
            into.paced_cpu.append(timed_get(c, path, pid)[1])


def run(kind: str, args: argparse.Namespace) -> dict[tuple[str, bool], Samples]:
    with bench_database(kind, args, "cold_start") as (url, workspace_id, key):
        pair = ",".join(str(a) for a in two_audiences(url, workspace_id))
        prefix = f"/api/v1/workspaces/{workspace_id}/insights/"
        paths = {"overlap": f"{prefix}audience-overlap?audience_ids={pair}"}
        paths["summary"] = f"{prefix}summary"
        paths = {name: paths[name] for name in args.endpoints.split(",")}
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
        results: dict[tuple[str, bool], Samples] = {}
        for round_number in range(args.rounds):
            for name, path in paths.items():
                for warm_up in WARM_UPS[args.warm_up]:
                    key_used_now(url, workspace_id)
                    samples = results.setdefault((name, warm_up), Samples())
                    one_process(url, headers, path, warm_up, args, samples)
            print(f"  {kind}: round {round_number + 1} done", file=sys.stderr, flush=True)
        return results


def table(kind: str, results: dict[tuple[str, bool], Samples]) -> str:
    lines = [
        f"| {kind} | warm-up | first request ms, median (p95) | warm ms, median (p95) "
        "| first / warm | CPU ms first / warm, medians | CPU first / warm "
        "| CPU ms paced, median | CPU first / paced "
        "| process answers after ms, median | its CPU ms by then, median |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (name, warm_up), s in results.items():
        first, warm = statistics.median(s.first), statistics.median(s.warm)
        first_cpu, warm_cpu = statistics.median(s.first_cpu), statistics.median(s.warm_cpu)
        paced = statistics.median(s.paced_cpu) if s.paced_cpu else float("nan")
        lines.append(
            f"| {name} | {'on' if warm_up else 'off'} | {first:.1f} ({p95(s.first):.1f}) "
            f"| {warm:.1f} ({p95(s.warm):.1f}) | {first / warm:.2f} "
            f"| {first_cpu:.1f} / {warm_cpu:.1f} | {first_cpu / max(warm_cpu, 0.001):.2f} "
            f"| {paced:.1f} | {first_cpu / paced:.2f} "
            f"| {statistics.median(s.start):,.0f} | {statistics.median(s.start_cpu):,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_options(parser, runs=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--paced", type=int, default=5, help="warm requests after a pause")
    parser.add_argument("--key-cache", action="store_true", help="keep the checked-key cache on")
    parser.add_argument("--endpoints", default="overlap,summary", help="comma-separated")
    parser.add_argument("--warm-up", choices=tuple(WARM_UPS), default="both")
    args = parser.parse_args()
    for kind in kinds_of(args):
        print(table(kind, run(kind, args)), flush=True)


if __name__ == "__main__":
    main()
