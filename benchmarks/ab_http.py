"""This checkout against another one, over HTTP on one kept database, requests interleaved:
each call goes to one version then the other, so both meet the same load at the same
moments. On a shared machine, where two runs minutes apart can differ by 2x, this is the
fair before/after of a change.

    python -m benchmarks.ab_http --url <kept database> --other <checkout of the old code> \\
        --path 'sync-health?days=7' --path 'sync-health?days=90' --calls 30

When this checkout adds a migration, give the other one a copy of the database at its own
revision with --other-url (the services never migrate; the copy keeps the comparison fair:
the old code does not get this checkout's indexes).

Both services run with the report cache off (benchmarks.serving.service_process), so every
call computes its report. Prints median and p95 in ms per path and version, and the ratio
of this checkout's median to the other's."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from contextlib import ExitStack

import httpx

from benchmarks.serving import existing_workspace, service_process

DEFAULT_PATHS = ("sync-health?days=7", "sync-health?days=90", "sync-health?days=365")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a kept benchmark database")
    parser.add_argument("--other", required=True, help="a checkout of the code to compare with")
    parser.add_argument("--other-url", help="the other checkout's database (default: --url)")
    parser.add_argument("--path", action="append", help="an Insights path (repeatable)")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    other_url = args.other_url or args.url
    workspace_id, key = existing_workspace(args.url)
    other_workspace_id, other_key = existing_workspace(other_url)
    assert other_workspace_id == workspace_id, "--other-url holds another benchmark workspace"
    other_path = os.pathsep.join([os.path.abspath(args.other), os.environ.get("PYTHONPATH", "")])
    with ExitStack() as stack:
        this, _ = stack.enter_context(service_process(args.url))
        other, _ = stack.enter_context(service_process(other_url, pythonpath=other_path))
        versions = {"this": (this, key), "other": (other, other_key)}
        client = stack.enter_context(httpx.Client(headers={"X-Workspace-ID": str(workspace_id)}))
        print("| path | this median (p95) | other median (p95) | this / other |")
        print("|---|---:|---:|---:|")
        for path in args.path or DEFAULT_PATHS:
            url = f"/api/v1/workspaces/{workspace_id}/insights/{path}"
            times: dict[str, list[float]] = {name: [] for name in versions}
            for call in range(args.warmup + args.calls):
                for name, (base, secret) in versions.items():
                    started = time.perf_counter()
                    authorization = {"Authorization": f"Bearer {secret}"}
                    response = client.get(base + url, headers=authorization, timeout=120)
                    elapsed = (time.perf_counter() - started) * 1000
                    response.raise_for_status()
                    if call >= args.warmup:
                        times[name].append(elapsed)
            this_median = statistics.median(times["this"])
            other_median = statistics.median(times["other"])
            print(
                f"| {path} | {this_median:.1f} ({_p95(times['this']):.1f}) "
                f"| {other_median:.1f} ({_p95(times['other']):.1f}) "
                f"| {this_median / other_median:.2f} |"
            )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


if __name__ == "__main__":
    main()
