"""Soak: mixed reads and writes from several clients against two service processes on one
PostgreSQL, for ten minutes by default, with the rate limit off (`make soak`, not in CI).

    python -m benchmarks.soak [--seconds 600] [--clients 6] [--max-growth-mib 256]

In a fresh PostgreSQL database it starts two processes of the real service (uvicorn, one
worker each; benchmarks.serving's service_process) and a workspace with a sync, a loader and
one audience per client. Each client thread sends its requests to the two processes in
turn: reads (summary, sync-health, sync-duration, the run and source lists, the audience's
evaluations and the overlap of two audiences) and writes (sync and loader runs, an update
of a run, member changes, a small streamed upload, a source created then deleted), each
client's member writes dated one second after its previous one so that none is a 409.

It reports requests, errors (any 5xx or transport error, or a 4xx other than a documented
429 of the per-workspace upload bound: must be 0), p50 and p99 in milliseconds, and each
process's resident memory at start (after a warm-up) and end. It exits with status 1 when a
request failed or a process grew by more than --max-growth-mib.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np

from benchmarks.overlap import load, rss_mib
from benchmarks.serving import fresh_database, service_process
from insights import auth, workspaces
from insights.db import make_engine, make_sessionmakers, migrate, transaction

WARMUP_SECONDS = 10


def stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Client:
    """One client thread's requests, its audience and its clock for member writes."""

    def __init__(self, bases: list[str], prefix: str, key: str, ids: dict[str, str]) -> None:
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": prefix.rsplit("/", 1)[1]}
        self.http = [
            httpx.Client(base_url=base + prefix, headers=headers, timeout=60) for base in bases
        ]
        self.ids = ids
        self.turn = 0
        self.when = datetime.now(UTC) - timedelta(days=2)
        self.latencies: list[float] = []
        self.outcomes: Counter[str] = Counter()
        self.errors: list[str] = []

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response | None:
        self.turn += 1
        client = self.http[self.turn % len(self.http)]
        started = time.perf_counter()
        try:
            response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            self.errors.append(f"{method} {path}: {type(exc).__name__}")
            return None
        self.latencies.append(time.perf_counter() - started)
        self.outcomes[str(response.status_code)] += 1
        if response.status_code >= 500 or (
            response.status_code >= 400 and response.status_code != 429
        ):
            self.errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response

    def next_time(self) -> str:
        self.when += timedelta(seconds=1)
        return stamp(self.when)

    def step(self, rng: random.Random) -> None:
        ids, audience = self.ids, self.ids["audience"]
        now = datetime.now(UTC)
        run = {"status": "completed", "started_at": stamp(now - timedelta(seconds=90))}
        run["completed_at"] = stamp(now - timedelta(seconds=rng.randint(0, 60)))
        choice = rng.random()
        if choice < 0.45:
            path = rng.choice(
                [
                    "/insights/summary",
                    "/insights/sync-health",
                    "/insights/sync-duration",
                    "/sources",
                    f"/syncs/{ids['sync']}/runs",
                    f"/audiences/{audience}/evaluations",
                ]
            )
            self.request("GET", path)
        elif choice < 0.5:
            pair = f"{audience},{ids['other_audience']}"
            self.request("GET", "/insights/audience-overlap", params={"audience_ids": pair})
        elif choice < 0.65:
            created = self.request(
                "POST", f"/syncs/{ids['sync']}/runs", json={**run, "rows_created": 10}
            )
            if created is not None and created.status_code == 201 and rng.random() < 0.3:
                path = f"/syncs/{ids['sync']}/runs/{created.json()['id']}"
                self.request("PUT", path, json={"rows_updated": 5})
        elif choice < 0.72:
            self.request("POST", f"/loaders/{ids['loader']}/runs", json={**run, "rows_loaded": 7})
        elif choice < 0.9:
            keys = [f"k{n}" for n in rng.sample(range(5000), 20)]  # none added and removed
            body = {"evaluated_at": self.next_time(), "added": keys[:10], "removed": keys[10:]}
            self.request("POST", f"/audiences/{audience}/evaluations", json=body)
        elif choice < 0.95:
            keys = "\n".join(f"k{rng.randrange(5000)}" for _ in range(2000)).encode()
            self.request(
                "PUT",
                f"/audiences/{audience}/members",
                content=keys,
                params={"evaluated_at": self.next_time()},
                headers={"Content-Type": "text/plain"},
            )
        else:
            source = self.request("POST", "/sources", json={"name": "soak", "source_type": "x"})
            if source is not None and source.status_code == 201:
                self.request("DELETE", f"/sources/{source.json()['id']}")

    def run(self, until: float, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < until:
            self.step(rng)

    def close(self) -> None:
        for client in self.http:
            client.close()


def setup(url: str, bases: list[str], clients: int) -> tuple[str, str, list[dict[str, str]]]:
    """(path prefix, admin key, per client the IDs it uses), made through the API."""
    engine = make_engine(url)
    with transaction(make_sessionmakers(engine)[1]) as session:
        workspace = workspaces.create_workspace(session, "soak")
        _, key = auth.mint_key(session, workspace.id, "soak", "admin")
        workspace_id = workspace.id
        prefix = f"/api/v1/workspaces/{workspace_id}"
    engine.dispose()
    with httpx.Client(
        base_url=bases[0] + prefix,
        headers={"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)},
        timeout=60,
    ) as http:

        def create(kind: str, **fields: object) -> str:
            response = http.post(f"/{kind}", json=fields)
            response.raise_for_status()
            return str(response.json()["id"])

        source = create("sources", name="S", source_type="x")
        model = create("models", name="M", source_id=source)
        destination = create("destinations", name="D", destination_type="x")
        sync = create("syncs", name="Sync", model_id=model, destination_id=destination)
        loader = create("loaders", name="L", loader_type="s3")
        audiences = [create("audiences", name=f"A{n}") for n in range(clients + 1)]
        start = stamp(datetime.now(UTC) - timedelta(days=3))
        for audience in audiences:
            body = {"evaluated_at": start, "members": [f"k{n}" for n in range(1000)]}
            http.post(f"/audiences/{audience}/evaluations", json=body).raise_for_status()
    shared = {"sync": sync, "loader": loader, "other_audience": audiences[-1]}
    return prefix, key, [{**shared, "audience": audiences[n]} for n in range(clients)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--max-growth-mib", type=float, default=256)
    args = parser.parse_args()
    with fresh_database("postgresql", prefix="soak_bench") as url, ExitStack() as stack:
        migrate(url)
        services = [stack.enter_context(service_process(url)) for _ in range(2)]
        bases, pids = [base for base, _ in services], [pid for _, pid in services]
        prefix, key, ids = setup(url, bases, args.clients)
        clients = [Client(bases, prefix, key, client_ids) for client_ids in ids]
        print(f"soak: {args.clients} clients, 2 processes, {args.seconds:.0f} s; {load()}")

        def run_all(seconds: float) -> None:
            until = time.monotonic() + seconds
            threads = [
                threading.Thread(target=client.run, args=(until, n))
                for n, client in enumerate(clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        run_all(WARMUP_SECONDS)
        for client in clients:
            client.latencies.clear()
            client.outcomes.clear()
        start_mib = [rss_mib(pid) for pid in pids]
        started = time.monotonic()
        run_all(args.seconds)
        elapsed = time.monotonic() - started
        end_mib = [rss_mib(pid) for pid in pids]
        for client in clients:
            client.close()
    latencies = np.array([s for client in clients for s in client.latencies]) * 1000
    outcomes = sum((client.outcomes for client in clients), Counter[str]())
    errors = [error for client in clients for error in client.errors]
    requests = len(latencies) + sum(1 for client in clients for e in client.errors if "Error" in e)
    print(f"requests {requests} in {elapsed:.0f} s ({requests / elapsed:.0f}/s); {dict(outcomes)}")
    print(f"errors {len(errors)}")
    for error in errors[:20]:
        print(f"  {error}")
    if len(latencies):
        p50, p99 = np.percentile(latencies, [50, 99])
        print(f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    grew = False
    for n, (before, after) in enumerate(zip(start_mib, end_mib, strict=True)):
        print(f"process {n + 1}: {before:.0f} MiB at start, {after:.0f} MiB at end")
        grew = grew or after - before > args.max_growth_mib
    return 1 if errors or grew else 0


if __name__ == "__main__":
    sys.exit(main())
