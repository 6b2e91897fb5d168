"""create_app(settings): the state, the routers, the one error handler, the body limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from insights import alerts, cycle_collector, members, metrics
from insights.api import alerts as alert_routes
from insights.api import evaluations, health, insights, resources, runs, workspaces
from insights.api import members as member_lists
from insights.api import metrics as metrics_endpoint
from insights.concurrency import run_blocking
from insights.dashboard.routes import PAGE_PATHS, add_dashboard, error_page
from insights.dashboard.templating import compile_templates
from insights.db import make_engine, make_probe_engine, make_sessionmakers
from insights.ratelimit import make_rate_limiter
from insights.settings import Settings
from insights.upload_slots import UploadSlots
from insights.web.body_limit import BodyLimit
from insights.web.capacity import Capacity, SessionSlots, limit_threads
from insights.web.errors import install_error_handler
from insights.web.key_cache import KeyCache
from insights.web.key_use import KeyUseRecorder
from insights.web.metrics import RequestMetrics
from insights.web.openapi import describe_api, operation_id
from insights.web.report_cache import ReportCache
from insights.web.state import AppState
from insights.web.versions import version_reads
from insights.web.warm_routes import build_routes
from insights.web.warmup import warm_up

API_DESCRIPTION = (
    "SignalSmith Insights: sync health, audience trends, activation coverage, audience "
    "overlap and a workspace summary, plus the write side that feeds them."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service; the database must already be migrated (the CLI does it first)."""
    settings = settings or Settings()
    state = _build_state(settings)

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        limit_threads(state.capacity.threads)
        await state.versions.open()
        if settings.warm_up:
            await run_blocking(warm_up, state, (compile_templates, partial(build_routes, served)))
            state.session_slots.in_use()  # makes this loop's limiter, as a first request would
        stop = asyncio.Event()
        worker = None
        if settings.alert_worker:
            job = alerts.run_worker(
                state.engine, state.write, settings, stop, metrics.count_notification
            )
            worker = asyncio.create_task(job, name="alert worker")
        if settings.gc_freeze:
            cycle_collector.freeze_startup_objects()
        yield
        if settings.gc_freeze:
            cycle_collector.unfreeze()
        stop.set()
        if worker is not None:
            await worker
        state.alert_queue.close()  # evaluates what the last writes left
        await state.versions.close()
        if state.parallel_reads is not None:
            state.parallel_reads.dispose()
        state.engine.dispose()
        state.probe.dispose()
        state.key_uses.dispose()

    app = FastAPI(
        title="SignalSmith Insights API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.insights = state
    # The insights first: the most called, and routes are matched in order.
    for module in (
        insights,
        health,
        workspaces,
        resources,
        runs,
        evaluations,
        member_lists,
        alert_routes,
    ):
        app.include_router(module.router)
    add_dashboard(app, settings)  # the HTML pages and /static
    install_error_handler(app, html_page=error_page, html_paths=PAGE_PATHS)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(RequestMetrics)  # added last, so outside the body limit: sees its 413s
    app.include_router(metrics_endpoint.router)
    describe_api(app)
    return app


def _build_state(settings: Settings) -> AppState:
    capacity = Capacity.sized(settings)
    engine = make_engine(
        settings.database_url, settings.db_pool_size, pool_timeout=settings.db_pool_timeout_seconds
    )
    caches = members.MemberCaches.sized(settings.bitmap_cache_bytes)
    parallel = members.parallel_reads(settings.database_url, settings.bitmap_read_connections)
    read, write = make_sessionmakers(
        engine,
        read_info=members.session_info(caches, parallel),  # read-only sessions only
        write_info={**members.session_info(caches), alerts.TRACK: True},
    )
    limiter = make_rate_limiter(
        settings.redis_url, settings.rate_limit_per_minute, settings.rate_limit_per_second
    )
    slots = UploadSlots(settings.max_uploads_per_workspace, settings.redis_url)
    probe = make_probe_engine(settings.database_url)
    queue = alerts.EvaluationQueue(write)
    sessions = SessionSlots(capacity.slots, settings.request_queue_seconds)
    reports = ReportCache(settings.report_cache_bytes, settings.report_cache_seconds)
    keys = KeyCache(settings.key_cache_seconds)
    key_uses = KeyUseRecorder(settings.database_url)
    return AppState(
        settings,
        engine,
        probe,
        read,
        write,
        limiter,
        slots,
        caches,
        queue,
        capacity,
        sessions,
        reports,
        keys,
        key_uses,
        version_reads(settings.database_url),
        parallel,
    )
