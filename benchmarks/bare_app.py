"""The ceiling a cached Insights answer is measured against: a bare FastAPI app that answers
the summary's path with fixed bytes (the service's own summary body, read from the file named
by INSIGHTS_BENCH_BODY), no key check, no database. Serve it with uvicorn's --factory."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

BODY_FILE = "INSIGHTS_BENCH_BODY"


def create_app() -> FastAPI:
    body = Path(os.environ[BODY_FILE]).read_bytes()
    app = FastAPI()

    @app.get("/api/v1/workspaces/{workspace_id}/insights/summary")
    async def summary(workspace_id: str) -> Response:
        return Response(body, media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app
