"""What FastAPI and the metrics build on a route's first request, built before serving.

FastAPI builds an included router's request handling on the first request that reaches it,
notes each endpoint's place in its source file, and sorts each dependency's callable into
generator, async generator or coroutine; the request metrics make their series for a route
on its first answer. Each is one-time work its first request would pay (docs/benchmarks.md,
"First request of a fresh process"). Through methods FastAPI keeps private: where one is
missing there is nothing to do."""

from __future__ import annotations

from typing import Any

import fastapi.dependencies.models
import fastapi.routing
from fastapi import FastAPI

from insights import metrics

# FastAPI's own classifiers (cached per callable), in the order a request asks them.
_CLASSIFIERS = ("_is_gen_callable", "_is_async_gen_callable", "_is_coroutine_callable")


def build_routes(app: FastAPI) -> None:
    """Has every included router build its routes' request handling now (pydantic adapters
    for each parameter, ~170 ms for the Insights router's ten routes on a loaded machine),
    every route note where its endpoint is and classify its dependencies, and every GET
    route's duration series exist (see `_open_series`)."""
    pending: list[Any] = list(app.router.routes)
    while pending:
        route = pending.pop()
        build = getattr(route, "effective_candidates", None)
        if callable(build):
            pending.extend(build())
        _locate_endpoint(route)
        _classify_dependencies(getattr(route, "dependant", None))
        _open_series(route)


def _locate_endpoint(route: Any) -> None:
    """FastAPI keeps each endpoint's file and line for its error messages, read with
    `inspect.getsourcelines` on the endpoint's first request: ~2 ms for the first one (the
    source file read, inspect's regular expressions compiled), ~0.5 ms for each after."""
    dependant = getattr(route, "dependant", None)
    locate = getattr(fastapi.routing, "_extract_endpoint_context", None)
    if dependant is not None and dependant.call is not None and callable(locate):
        locate(dependant.call)


def _classify_dependencies(dependant: Any) -> None:
    """Each dependency's callable sorted by FastAPI's cached `inspect` checks, which its
    first request would otherwise run (~30 µs a dependency)."""
    if dependant is None:
        return
    for sub in getattr(dependant, "dependencies", ()):
        for name in _CLASSIFIERS:
            classify = getattr(fastapi.dependencies.models, name, None)
            if callable(classify) and sub.call is not None:
                classify(sub.call)
        _classify_dependencies(sub)


def _open_series(route: Any) -> None:
    """A GET route's duration histogram (12 buckets) made now, not on its first answer
    (~70 µs): it then reports a count of 0 until called, as Prometheus advises for series
    known in advance. Other methods' and statuses' series still appear when first used."""
    template = getattr(route, "path_format", None)
    if isinstance(template, str) and "GET" in (getattr(route, "methods", None) or ()):
        metrics.open_request_series("GET", template)
