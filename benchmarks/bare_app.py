"""The floor an Insights answer is measured against: a bare FastAPI app (no key check, no
database, no middleware) that answers each path it was given with that path's fixed bytes
(the service's own answers, saved by the benchmark), and /healthz.

    INSIGHTS_BENCH_BODIES=<file> uvicorn benchmarks.bare_app:create_app --factory

The file maps each path (with its query) to the file of its body, as JSON;
benchmarks.serving.bare_app writes it and serves the app."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI, Request, Response

BODIES = "INSIGHTS_BENCH_BODIES"


def create_app() -> FastAPI:
    manifest: dict[str, str] = json.loads(Path(os.environ[BODIES]).read_text())
    bodies = {path: Path(file).read_bytes() for path, file in manifest.items()}
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/api/{rest:path}")
    async def answer(request: Request, rest: str) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Response(bodies[target], media_type="application/json")

    return app
