"""What alerting costs (issue 11): a run write with 50 rules against none, and a periodic
pass over 1,000 syncs and 50 rules.

    python -m benchmarks.alerts_bench --db sqlite|postgresql|both [--runs 200000]

In a fresh database per kind it builds the benchmark workspace (benchmarks.bench_workspace:
1,000 syncs, --runs runs over 90 days) and:

1. starts the real service (uvicorn, one worker, 127.0.0.1, the alert worker off so that no
   periodic pass runs during the measurement) and POSTs --calls failed-then-completed runs
   to syncs in turn from one httpx client, with no rule, then again with 50 enabled rules
   (ten of each condition, each watching every subject; channels on a public address that
   is never called: nothing is delivered during the run). p50 and p95 of each, and the
   ratio of the p50s (target: under 2x);
2. in-process, times `insights.alerts.evaluate_all` over the workspace: the first pass
   (opening the alerts) and the median of --passes later ones (nothing changes: the steady
   state of the periodic pass), beside one read of the sync-health report over the same
   syncs measured in the same run (target: a pass under 1 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from benchmarks.bench_workspace import Shape
from benchmarks.serving import build, fresh_database, service_process
from insights import alerts, auth
from insights.db import make_engine, make_sessionmakers, transaction
from insights.models import Sync, utcnow
from insights.reports.sync_health import health_rows

RULES = 50
CONDITIONS = [
    ("sync_failed", None),
    ("health_below", 60),
    ("sla_breached", None),
    ("throughput_degraded", None),
    ("audience_size_change", 25),
]


def _rule(index: int) -> dict[str, object]:
    condition, threshold = CONDITIONS[index % len(CONDITIONS)]
    return {
        "name": f"Rule {index}",
        "condition": condition,
        "threshold": threshold,
        "channel": {"type": "webhook", "url": f"https://93.184.215.14/hook/{index}"},
    }


def _write_key(url: str, workspace_id: uuid.UUID) -> str:
    engine = make_engine(url)
    with transaction(make_sessionmakers(engine)[1]) as session:
        _, key = auth.mint_key(session, workspace_id, "alerts benchmark", "write")
    engine.dispose()
    return key


def _sync_ids(url: str, workspace_id: uuid.UUID, count: int) -> list[str]:
    engine = make_engine(url)
    with transaction(make_sessionmakers(engine)[0]) as session:
        query = session.query(Sync.id).filter(
            Sync.workspace_id == workspace_id, Sync.kind == "model"
        )
        ids = [str(row.id) for row in query.order_by(Sync.id).limit(count)]
    engine.dispose()
    return ids


def _post_runs(client: httpx.Client, base: str, sync_ids: list[str], calls: int) -> list[float]:
    samples = []
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    for index in range(calls):
        moment += timedelta(seconds=1)
        sync_id = sync_ids[index % len(sync_ids)]
        status = "failed" if (index // len(sync_ids)) % 2 == 0 else "completed"
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"status": status, "started_at": stamp, "completed_at": stamp}
        started = time.perf_counter()
        response = client.post(f"{base}/syncs/{sync_id}/runs", json=body)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def _p(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure_writes(url: str, workspace_id: uuid.UUID, calls: int) -> None:
    key = _write_key(url, workspace_id)
    sync_ids = _sync_ids(url, workspace_id, 10)
    os.environ["INSIGHTS_ALERT_WORKER"] = "false"
    os.environ["INSIGHTS_WEBHOOK_ALLOW_PRIVATE"] = "false"
    with service_process(url) as (root, _pid):
        base = f"{root}/api/v1/workspaces/{workspace_id}"
        headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
        with httpx.Client(headers=headers, timeout=60) as client:
            _post_runs(client, base, sync_ids, 10)  # warm-up
            without = _post_runs(client, base, sync_ids, calls)
            for index in range(RULES):
                client.post(f"{base}/alert-rules", json=_rule(index)).raise_for_status()
            _post_runs(client, base, sync_ids, 10)
            with_rules = _post_runs(client, base, sync_ids, calls)
    print(f"  POST run, no rule:  p50 {_p(without, 0.5):7.1f} ms  p95 {_p(without, 0.95):7.1f} ms")
    print(
        f"  POST run, {RULES} rules: p50 {_p(with_rules, 0.5):7.1f} ms"
        f"  p95 {_p(with_rules, 0.95):7.1f} ms"
    )
    ratio = _p(with_rules, 0.5) / _p(without, 0.5)
    print(f"  ratio of p50s: {ratio:.2f}x (target < 2x)")


def measure_pass(url: str, workspace_id: uuid.UUID, passes: int) -> None:
    engine = make_engine(url)
    read, write = make_sessionmakers(engine)
    started = time.perf_counter()
    first = alerts.evaluate_all(write)
    first_seconds = time.perf_counter() - started
    later = []
    for _ in range(passes):
        started = time.perf_counter()
        alerts.evaluate_all(write)
        later.append(time.perf_counter() - started)
    reads = []
    for _ in range(passes):
        started = time.perf_counter()
        with transaction(read) as session:
            health_rows(session, workspace_id, days=7, now=utcnow())
        reads.append(time.perf_counter() - started)
    engine.dispose()
    steady, baseline = statistics.median(later), statistics.median(reads)
    print(
        f"  first pass: {first_seconds * 1000:7.0f} ms"
        f" (opened {first.opened}, resolved {first.resolved})"
    )
    print(f"  later passes (median of {passes}): {steady * 1000:7.0f} ms (target < 1000 ms)")
    print(f"  one sync-health read over the same syncs: {baseline * 1000:7.0f} ms")
    print(f"  ratio pass / read: {steady / baseline:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    shape = Shape(syncs=1_000, runs=args.runs, audiences=50, universe=10_000)
    for kind in kinds:
        print(f"{kind}: 1,000 syncs, {args.runs:,} runs, {RULES} rules")
        with fresh_database(kind, prefix="alerts_bench") as url:
            workspace_id, _key = build(url, shape)
            measure_writes(url, workspace_id, args.calls)
            measure_pass(url, workspace_id, args.passes)


if __name__ == "__main__":
    main()
