"""The streaming member upload over HTTP at CDP scale: time and the service's memory.

    python -m benchmarks.upload_http --db sqlite|postgresql|both [--keys 10000000]

In a fresh database per kind (benchmarks.overlap.fresh_database) it makes a workspace, an
audience and a write key, starts the real service (uvicorn, one worker, 127.0.0.1, a free
port, rate limits off; benchmarks.insights_bench's harness) and, from one httpx client,
PUTs --keys new keys of 25 characters (`cust_<16 hex>_abc`, text/plain, generated as the
body streams) to the audience's members, then the same keys again in another order (all
known), then as NDJSON (all known). A thread reads the service process's resident memory
every 20 ms: its peak during each upload and its size two seconds after the response, over
the service's size at start; in brackets the anonymous part (RSS without file pages: SQLite's
memory-mapped reads of the database file are page cache, counted in RSS all the same).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np

from benchmarks.insights_bench import service_process
from benchmarks.overlap import Bench, body_chunks, fresh_database, load, rss_mib
from insights import auth
from insights.db import migrate, transaction

TARGET_SECONDS = {"new": 60.0, "known": 30.0}
TARGET_GROWTH_MIB = 1024


def anonymous_mib(pid: int) -> float:
    """Resident memory that is the process's own: RSS without file pages (SQLite's
    memory-mapped reads are file pages, the kernel's page cache, counted in RSS too)."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("RssAnon:"))
    return int(line.split()[1]) / 1024


class PeakMemory:
    """The highest resident memory of a process while the block runs, read every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.anonymous_peak = pid, rss_mib(pid), anonymous_mib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib(self.pid))
            self.anonymous_peak = max(self.anonymous_peak, anonymous_mib(self.pid))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib(self.pid))


@dataclass
class Upload:
    label: str
    kind: str  # "new" or "known"
    seconds: float
    before_mib: float
    peak_mib: float
    after_mib: float
    anonymous_before_mib: float
    anonymous_peak_mib: float
    anonymous_after_mib: float


def ndjson_chunks(indexes: np.ndarray) -> Iterator[bytes]:
    """The same keys as body_chunks, one JSON string a line (the keys need no escaping, so
    quotes go around each line's 25 bytes, in numpy)."""
    for chunk in body_chunks(indexes):
        lines = np.frombuffer(chunk, dtype=np.uint8).reshape(-1, 26)
        quoted = np.empty((len(lines), 28), dtype=np.uint8)
        quoted[:, 0] = quoted[:, 26] = ord('"')
        quoted[:, 1:26] = lines[:, :25]
        quoted[:, 27] = ord("\n")
        yield quoted.tobytes()


def build(url: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    migrate(url)
    bench = Bench(url, 0, runs=0)
    with transaction(bench.write) as session:
        audience = bench.audience(session, "uploaded")
        _, key = auth.mint_key(session, bench.ws, "benchmark", "write")
    bench.engine.dispose()
    return bench.ws, audience, key


def upload(
    client: httpx.Client, path: str, pid: int, label: str, kind: str, body: Iterator[bytes]
) -> Upload:
    content_type = "application/x-ndjson" if "NDJSON" in label else "text/plain"
    before, anonymous_before = rss_mib(pid), anonymous_mib(pid)
    started = time.perf_counter()
    with PeakMemory(pid) as memory:
        response = client.put(path, content=body, headers={"Content-Type": content_type})
    seconds = time.perf_counter() - started
    response.raise_for_status()
    time.sleep(2)
    return Upload(
        label,
        kind,
        seconds,
        before,
        memory.peak,
        rss_mib(pid),
        anonymous_before,
        memory.anonymous_peak,
        anonymous_mib(pid),
    )


def run(kind: str, keys: int) -> list[Upload]:
    rng = np.random.default_rng(11)
    indexes = rng.choice(2 * keys, keys, replace=False)
    with fresh_database(kind) as url:
        workspace_id, audience_id, key = build(url)
        print(f"{kind}: {keys:,} keys; {load()}", file=sys.stderr)
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
        path = f"/api/v1/workspaces/{workspace_id}/audiences/{audience_id}/members"
        with (
            service_process(url) as (base, pid),
            httpx.Client(base_url=base, headers=headers, timeout=3600) as client,
        ):
            results = [
                upload(client, path, pid, "new keys", "new", body_chunks(indexes)),
                upload(
                    client,
                    path,
                    pid,
                    "the same keys again",
                    "known",
                    body_chunks(rng.permutation(indexes)),
                ),
                upload(client, path, pid, "the same keys, NDJSON", "known", ndjson_chunks(indexes)),
            ]
        print(f"  {load()}", file=sys.stderr)
        return results


def table(kind: str, keys: int, results: list[Upload]) -> str:
    """Time against the target, and the service's memory over its size at start (the first
    upload's baseline): RSS, and in brackets its anonymous part."""
    base, anonymous_base = results[0].before_mib, results[0].anonymous_before_mib
    lines = [
        f"service at start: RSS {base:.0f} MiB, anonymous {anonymous_base:.0f} MiB",
        "",
        f"| {kind}, {keys:,} keys | seconds | target | peak, over the start (anonymous) "
        "| 2 s after, over the start (anonymous) |",
        "|---|---:|---|---:|---:|",
    ]
    for r in results:
        target = TARGET_SECONDS[r.kind] * keys / 10_000_000
        verdict = "ok" if r.seconds < target else "missed"
        growth = r.peak_mib - base
        memory = "ok" if growth < TARGET_GROWTH_MIB else "missed"
        lines.append(
            f"| {r.label} | {r.seconds:.1f} | < {target:.0f} s {verdict} "
            f"| +{growth:.0f} MiB {memory} (+{r.anonymous_peak_mib - anonymous_base:.0f}) "
            f"| +{r.after_mib - base:.0f} MiB (+{r.anonymous_after_mib - anonymous_base:.0f}) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--keys", type=int, default=10_000_000)
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        print(table(kind, args.keys, run(kind, args.keys)) + "\n", flush=True)


if __name__ == "__main__":
    main()
