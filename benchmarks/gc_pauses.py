"""Python's full garbage collections in the service while it answers reports, with and
without the start-up freeze (insights.cycle_collector), on a kept benchmark database.

    python -m benchmarks.insights_bench --db sqlite --keep    # prints the kept URL
    python -m benchmarks.gc_pauses --url <kept URL> [--calls 40]

It starts the app in this process (fastapi's TestClient: the same app, lifespan included, no
sockets), calls summary, sync-health?days=7 and audience-trends?days=30 --calls times each
after 5 warm-up calls, and records every collection of the oldest generation through
gc.callbacks: how many ran and how long each took. Then the same with the freeze off, then on
again, so that a machine's load drifts over both. Durations are wall time: on a busy machine
they include waiting for a CPU.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any

from fastapi.testclient import TestClient

from benchmarks.serving import existing_workspace
from insights.app import create_app
from insights.settings import Settings

PATHS = ["insights/summary", "insights/sync-health?days=7", "insights/audience-trends?days=30"]
WARMUP = 5


class FullCollections:
    """Durations (ms) of the oldest generation's collections while the block runs."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.durations.append((time.perf_counter() - self._started) * 1000)

    def __enter__(self) -> FullCollections:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)


def measure(url: str, freeze: bool, calls: int) -> tuple[FullCollections, list[float]]:
    """Full collections and request times (ms) of one app's calls."""
    workspace_id, key = existing_workspace(url)
    settings = Settings(
        database_url=url, gc_freeze=freeze, rate_limit_per_minute=0, rate_limit_per_second=0
    )
    headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
    base = f"/api/v1/workspaces/{workspace_id}/"
    samples: list[float] = []
    with TestClient(create_app(settings)) as client:
        for path in PATHS:
            for _ in range(WARMUP):
                client.get(base + path, headers=headers).raise_for_status()
        with FullCollections() as collections:
            for _ in range(calls):
                for path in PATHS:
                    started = time.perf_counter()
                    client.get(base + path, headers=headers).raise_for_status()
                    samples.append((time.perf_counter() - started) * 1000)
    return collections, samples


def line(label: str, collections: FullCollections, samples: list[float]) -> str:
    durations = collections.durations
    pauses = (
        f"median {statistics.median(durations):.1f} ms, max {max(durations):.1f} ms"
        if durations
        else "none"
    )
    total = sum(durations)
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95)]
    return (
        f"| {label} | {len(durations)} | {pauses} | {total:.0f} ms "
        f"| {statistics.median(samples):.1f} / {p95:.1f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    print(
        f"| freeze | full collections in {args.calls * len(PATHS)} calls | each "
        "| their total | all calls: median / p95 |"
    )
    print("|---|---:|---|---:|---|")
    for freeze in (True, False, True, False):
        collections, samples = measure(args.url, freeze, args.calls)
        print(line("on" if freeze else "off", collections, samples), flush=True)


if __name__ == "__main__":
    main()
