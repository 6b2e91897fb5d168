"""The cached-hit path of one Insights request, in process: the service's ASGI app called
directly (no sockets, no HTTP parsing), beside the bare FastAPI app of
benchmarks.bare_app answering the same path with the same bytes, in the same run.

    python -m benchmarks.cached_path --db sqlite|postgresql|both [--url URL]
        [--requests 5000] [--concurrency 1,32] [--profile N] [--path summary]

For each database: builds a small workspace (or takes the kept benchmark workspace at
--url), then times --requests cached reads of the path (summary, or sync-health?days=7) with
each --concurrency (that many requests in flight on the event loop at once), through the
service (rate limits, the alert worker and the warm-up off, but the caches on) and through
the bare app. Prints microseconds per request of each and the service's rate as a share of
the bare app's. --profile N: cProfile N more service requests at the first concurrency and
print the 40 costliest functions by cumulative time (what a cached hit spends where)."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import uvloop
from starlette.types import ASGIApp, Message

from benchmarks import bare_app
from benchmarks.bench_workspace import Shape
from benchmarks.serving import build, existing_workspace, fresh_database
from insights.app import create_app
from insights.settings import Settings

SMALL = Shape(syncs=50, runs=20_000, audiences=10, universe=20_000, loaders=2)
PATHS = {"summary": "insights/summary", "sync-health": "insights/sync-health?days=7"}


def _scope(target: str, headers: dict[str, str]) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: ASGIApp, scope: dict[str, Any]) -> tuple[int, bytes]:
    """One request through `app`: its status and body."""
    sent: list[Message] = []
    delivered = False
    never = asyncio.Event()

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(dict(scope), receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


async def timed(
    request: Callable[[], Awaitable[tuple[int, bytes]]], count: int, concurrency: int
) -> float:
    """Microseconds per request of `count` requests, `concurrency` of them in flight."""
    per_task = max(1, count // concurrency)

    async def worker() -> None:
        for _ in range(per_task):
            status, _ = await request()
            assert status == 200, status

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.perf_counter() - started) * 1e6 / (per_task * concurrency)


async def measure(url: str, args: Any) -> list[str]:
    workspace_id, key = existing_workspace(url)
    headers = {"Authorization": f"Bearer {key}", "X-Workspace-ID": str(workspace_id)}
    target = f"/api/v1/workspaces/{workspace_id}/{PATHS[args.path]}"
    settings = Settings(
        database_url=url,
        rate_limit_per_minute=0,
        rate_limit_per_second=0,
        alert_worker=False,
        warm_up=False,
        gc_freeze=False,
    )
    app = create_app(settings)
    scope = _scope(target, headers)
    lines = []
    async with app.router.lifespan_context(app):
        status, body = await call(app, scope)
        assert status == 200, body
        with tempfile.TemporaryDirectory() as scratch:
            bare = _bare_app(Path(scratch), target, body)
        for concurrency in args.concurrency:
            await timed(lambda: call(app, scope), args.requests // 5, concurrency)  # warm
            service_us = await timed(lambda: call(app, scope), args.requests, concurrency)
            await timed(lambda: call(bare, scope), args.requests // 5, concurrency)
            bare_us = await timed(lambda: call(bare, scope), args.requests, concurrency)
            lines.append(
                f"| {args.path} | {concurrency} | {service_us:,.0f} | {bare_us:,.0f} | "
                f"{100 * bare_us / service_us:.0f}% |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
        if args.profile:
            await _profile(lambda: call(app, scope), args.profile, args.concurrency[0])
    return lines


def _bare_app(scratch: Path, target: str, body: bytes) -> ASGIApp:
    (scratch / "body.json").write_bytes(body)
    manifest = scratch / "bodies.json"
    manifest.write_text(json.dumps({target: str(scratch / "body.json")}))
    os.environ[bare_app.BODIES] = str(manifest)
    return bare_app.create_app()


async def _profile(
    request: Callable[[], Awaitable[tuple[int, bytes]]], count: int, concurrency: int
) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    await timed(request, count, concurrency)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--url", help="measure the kept benchmark workspace at this URL")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 32]
    )
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--path", choices=sorted(PATHS), default="summary")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    if args.url:
        kinds = ("sqlite" if args.url.startswith("sqlite") else "postgresql",)
    for kind in kinds:
        database = nullcontext(args.url) if args.url else fresh_database(kind, prefix="cpath")
        with database as url:
            if not args.url:
                build(url, SMALL)
            header = f"| {kind} | in flight | service µs/req | bare µs/req | % of bare |"
            lines = uvloop.run(measure(url, args))  # as uvicorn serves
            print("\n".join([header, "|---|---:|---:|---:|---:|", *lines]) + "\n", flush=True)


if __name__ == "__main__":
    main()
