"""The streaming member upload over HTTP at CDP scale: time, the service's memory, and how
the service answers other requests meanwhile.

    python -m benchmarks.upload_http --db sqlite|postgresql|both [--keys 10000000]

In a fresh database per kind (benchmarks.overlap.fresh_database) it makes a workspace, an
audience and a write key, starts the real service (uvicorn, one worker, 127.0.0.1, a free
port, rate limits off; benchmarks.serving's service_process) and, from one httpx client,
PUTs --keys new keys of 25 characters (`cust_<16 hex>_abc`, text/plain, generated as the
body streams) to the audience's members, then the same keys again in another order (all
known), then as NDJSON (all known). A thread reads the service process's resident memory
every 20 ms: its peak during each upload and its size two seconds after the response, over
the service's size at start; in brackets the anonymous part (RSS without file pages: SQLite's
memory-mapped reads of the database file are page cache, counted in RSS all the same).

Meanwhile another client (benchmarks.latency_probe) GETs `/healthz` and, with a read key, one
audience, in turn every 20 ms: first for IDLE_SECONDS with nothing else running (the same
run's baseline), then during each upload; median / p95 / p99 / max of each. Last, with the
dictionary at --keys keys, SMALL_UPLOADS uploads of 1,000 new keys to another audience: the
cost of a small upload that no longer depends on the dictionary's size.
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

from benchmarks.latency_probe import Latencies, LatencyProbe
from benchmarks.overlap import Bench, body_chunks, fresh_database, load, rss_mib
from benchmarks.serving import service_process
from insights import auth
from insights.db import migrate, transaction

TARGET_SECONDS = {"new": 60.0, "known": 30.0}
TARGET_GROWTH_MIB = 1024
IDLE_SECONDS = 3.0
SMALL_UPLOADS, SMALL_KEYS = 5, 1_000


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
    health: Latencies
    read: Latencies


@dataclass
class Service:
    """The running service, its paths and the two clients' headers."""

    client: httpx.Client
    pid: int
    base: str
    read_headers: dict[str, str]
    health_path: str
    read_path: str

    def probe(self) -> LatencyProbe:
        return LatencyProbe(self.base, [self.health_path, self.read_path], self.read_headers)


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


@dataclass(frozen=True)
class Workspace:
    id: uuid.UUID
    uploaded: uuid.UUID  # the audience of the large uploads
    small: uuid.UUID  # the audience of the small ones
    write_key: str
    read_key: str


def build(url: str) -> Workspace:
    migrate(url)
    bench = Bench(url, 0, runs=0)
    with transaction(bench.write) as session:
        uploaded = bench.audience(session, "uploaded")
        small = bench.audience(session, "small")
        _, write_key = auth.mint_key(session, bench.ws, "benchmark", "write")
        _, read_key = auth.mint_key(session, bench.ws, "benchmark probe", "read")
    bench.engine.dispose()
    return Workspace(bench.ws, uploaded, small, write_key, read_key)


def members_path(workspace: Workspace, audience: uuid.UUID) -> str:
    return f"/api/v1/workspaces/{workspace.id}/audiences/{audience}/members"


def upload(service: Service, path: str, label: str, kind: str, body: Iterator[bytes]) -> Upload:
    content_type = "application/x-ndjson" if "NDJSON" in label else "text/plain"
    pid = service.pid
    before, anonymous_before = rss_mib(pid), anonymous_mib(pid)
    started = time.perf_counter()
    with PeakMemory(pid) as memory, service.probe() as probe:
        response = service.client.put(path, content=body, headers={"Content-Type": content_type})
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
        probe.results[service.health_path],
        probe.results[service.read_path],
    )


def idle(service: Service) -> tuple[Latencies, Latencies]:
    """The probe's figures with nothing else running: the same run's baseline."""
    with service.probe() as probe:
        time.sleep(IDLE_SECONDS)
    return probe.results[service.health_path], probe.results[service.read_path]


def small_uploads(service: Service, path: str, first_index: int) -> Latencies:
    """SMALL_UPLOADS uploads of SMALL_KEYS new keys each, timed one by one."""
    timings = Latencies()
    for number in range(SMALL_UPLOADS):
        start = first_index + number * SMALL_KEYS
        body = b"".join(body_chunks(np.arange(start, start + SMALL_KEYS)))
        started = time.perf_counter()
        response = service.client.put(
            path,
            content=body,
            headers={"Content-Type": "text/plain"},
            params={"evaluated_at": f"2026-01-01T00:00:{number:02d}Z"},
        )
        response.raise_for_status()
        timings.samples.append((time.perf_counter() - started) * 1000)
    return timings


@dataclass
class Results:
    idle_health: Latencies
    idle_read: Latencies
    uploads: list[Upload]
    small: Latencies


def headers_of(workspace: Workspace, key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace.id)}


def run(kind: str, keys: int) -> Results:
    rng = np.random.default_rng(11)
    indexes = rng.choice(2 * keys, keys, replace=False)
    with fresh_database(kind) as url:
        workspace = build(url)
        print(f"{kind}: {keys:,} keys; {load()}", file=sys.stderr)
        path = members_path(workspace, workspace.uploaded)
        with (
            service_process(url) as (base, pid),
            httpx.Client(
                base_url=base, headers=headers_of(workspace, workspace.write_key), timeout=3600
            ) as client,
        ):
            service = Service(
                client,
                pid,
                base,
                headers_of(workspace, workspace.read_key),
                "/healthz",
                f"/api/v1/workspaces/{workspace.id}/audiences/{workspace.small}",
            )
            idle_health, idle_read = idle(service)
            uploads = [
                upload(service, path, "new keys", "new", body_chunks(indexes)),
                upload(
                    service,
                    path,
                    "the same keys again",
                    "known",
                    body_chunks(rng.permutation(indexes)),
                ),
                upload(service, path, "the same keys, NDJSON", "known", ndjson_chunks(indexes)),
            ]
            small = small_uploads(service, members_path(workspace, workspace.small), 2 * keys)
        print(f"  {load()}", file=sys.stderr)
        return Results(idle_health, idle_read, uploads, small)


def table(kind: str, keys: int, found: Results) -> str:
    """Time against the target, and the service's memory over its size at start (the first
    upload's baseline): RSS, and in brackets its anonymous part. Then the probe's figures,
    idle and during each upload, and the small uploads."""
    results = found.uploads
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
    lines += [
        "",
        f"| {kind}: answers meanwhile, median/p95/p99/max "
        "| /healthz | GET an audience (read key) |",
        "|---|---|---|",
        f"| idle (baseline) | {found.idle_health.summary()} | {found.idle_read.summary()} |",
    ]
    lines += [f"| during: {r.label} | {r.health.summary()} | {r.read.summary()} |" for r in results]
    small = found.small
    lines += [
        "",
        f"{kind}: {SMALL_UPLOADS} uploads of {SMALL_KEYS:,} new keys with {keys:,} keys in the"
        f" dictionary: median {small.percentile(0.5):.0f} ms, max {max(small.samples):.0f} ms",
    ]
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
