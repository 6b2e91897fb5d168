"""The floor of an HTTP answer: a bare FastAPI app (no key check, no database, no
middleware) that returns the same bytes the service returned, for the load sweep's ratios.

    INSIGHTS_BARE_BODY=<file> uvicorn benchmarks.bare_app:create_app --factory

Every GET path answers the file's bytes as application/json."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

BODY_FILE = "INSIGHTS_BARE_BODY"


def create_app() -> FastAPI:
    body = Path(os.environ[BODY_FILE]).read_bytes()
    app = FastAPI()

    @app.get("/{path:path}")
    def answer(path: str) -> Response:
        return Response(body, media_type="application/json")

    return app
