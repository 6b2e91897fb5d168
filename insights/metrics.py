"""The service's Prometheus metrics, each declared once here, and their exposition.

Label values are names, templates and outcomes, never an ID (contract 10). When
PROMETHEUS_MULTIPROC_DIR is set before this module is first imported (`insights serve
--workers N` does it), every process writes its samples to files in that directory and any
process's scrape adds them all up (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# The route label of a request no route matched (a 404, or a body refused before routing).
UNMATCHED = "<unmatched>"
NOTIFICATION_OUTCOMES = ("delivered", "retried", "failed")

# A `_created` twin of every counter only doubles the series; Prometheus does not need it.
disable_created_metrics()  # type: ignore[no-untyped-call]

HTTP_REQUESTS = Counter(
    "insights_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "insights_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DB_POOL_IN_USE = Gauge(
    "insights_db_pool_connections_in_use",
    "Database connections checked out of the pool, by pool (`main`: requests and "
    "commands; `bitmap_reads`: the extra connections that read member bitmaps).",
    ["pool"],
    multiprocess_mode="livesum",
)
BITMAP_CACHE_BYTES = Gauge(
    "insights_bitmap_cache_bytes",
    "Serialised bytes of the member bitmaps held in the in-process cache.",
    multiprocess_mode="livesum",
)
BITMAP_CACHE_HITS = Counter(
    "insights_bitmap_cache_hits", "Member bitmap reads answered from the cache."
)
BITMAP_CACHE_MISSES = Counter(
    "insights_bitmap_cache_misses", "Member bitmap reads the cache could not answer."
)
MEMBER_KEYS_UPLOADED = Counter(
    "insights_member_keys_uploaded",
    "Member keys received in full member lists (the streamed upload, `insights members "
    "upload`, and an evaluation's `members`), counted once the list is recorded.",
)
REPORT_CACHE_HITS = Counter(
    "insights_report_cache_hits",
    "Insights answers and single-resource reads served from the process's cache of "
    "response bytes (or from a computation another request had started), by report.",
    ["report"],
)
REPORT_CACHE_MISSES = Counter(
    "insights_report_cache_misses",
    "Insights answers and single-resource reads computed because the cache had none for "
    "the workspace's data version.",
    ["report"],
)
REPORT_CACHE_BYTES = Gauge(
    "insights_report_cache_bytes",
    "Bytes of Insights responses held in the process's cache.",
    multiprocess_mode="livesum",
)
KEY_CHECKS = Counter(
    "insights_key_checks",
    "API key checks, by whether the process's cache answered them (`cached`: true, after "
    "one read of the workspace's data version) or the key was read (`false`).",
    ["cached"],
)
KEY_USES_DEFERRED = Counter(
    "insights_key_uses_deferred",
    "Stamps of a key's last_used_at given up because they would have waited for a lock "
    "(on PostgreSQL also those another process had just made), tried again by a later "
    "request of the key.",
)
ALERT_NOTIFICATIONS = Counter(
    "insights_alert_notifications",
    "Alert notification delivery attempts, by channel type and outcome "
    "(`delivered`, `retried`: failed and queued again, `failed`: given up).",
    ["channel", "outcome"],
)
# Not a process's own figure but the database's: made at scrape time by a collector
# (insights.alerts.collector), so every process reports the same.
ALERTS_FIRING = "insights_alerts_firing"
ALERTS_FIRING_HELP = "Alerts firing now, by workspace name and condition."


def metric_names() -> frozenset[str]:
    """The name of every series the service exports (a Grafana panel may plot only these)."""
    names = {ALERTS_FIRING}
    for metric in (
        HTTP_REQUESTS,
        HTTP_REQUEST_DURATION,
        DB_POOL_IN_USE,
        BITMAP_CACHE_BYTES,
        BITMAP_CACHE_HITS,
        BITMAP_CACHE_MISSES,
        MEMBER_KEYS_UPLOADED,
        REPORT_CACHE_HITS,
        REPORT_CACHE_MISSES,
        REPORT_CACHE_BYTES,
        KEY_CHECKS,
        KEY_USES_DEFERRED,
        ALERT_NOTIFICATIONS,
    ):
        for family in metric.describe():
            names.update(_series_names(family))
    return frozenset(names)


def _series_names(family: Metric) -> set[str]:
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
    }.get(family.type, ("",))
    return {family.name + suffix for suffix in suffixes}


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """One answered request; `route` is the matched route's template, never its path."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_REQUEST_DURATION.labels(method, route).observe(seconds)


def open_request_series(method: str, route: str) -> None:
    """The duration series of `route` made before its first request (insights.web.warm_routes)."""
    HTTP_REQUEST_DURATION.labels(method, route)


def count_notification(channel: str, outcome: str) -> None:
    """One delivery attempt of an alert notification: `channel` is the channel type
    (`webhook`, `slack`), `outcome` one of NOTIFICATION_OUTCOMES."""
    if outcome not in NOTIFICATION_OUTCOMES:
        raise ValueError(f"unknown notification outcome {outcome!r}")
    ALERT_NOTIFICATIONS.labels(channel, outcome).inc()


def count_member_keys(keys: int) -> None:
    MEMBER_KEYS_UPLOADED.inc(keys)


def count_bitmap_read(hit: bool) -> None:
    (BITMAP_CACHE_HITS if hit else BITMAP_CACHE_MISSES).inc()


def add_cached_bytes(delta: int) -> None:
    """A bitmap cache grew (or, negative, shrank) by `delta` bytes."""
    BITMAP_CACHE_BYTES.inc(delta)


def count_report_read(report: str, cached: bool) -> None:
    """One Insights answer: `report` is the endpoint's name, never an ID."""
    (REPORT_CACHE_HITS if cached else REPORT_CACHE_MISSES).labels(report).inc()


def add_report_cache_bytes(delta: int) -> None:
    REPORT_CACHE_BYTES.inc(delta)


_KEY_CHECKS_BY_CACHE = {True: KEY_CHECKS.labels("true"), False: KEY_CHECKS.labels("false")}


def count_key_check(cached: bool) -> None:
    _KEY_CHECKS_BY_CACHE[cached].inc()


def count_key_use_deferred() -> None:
    KEY_USES_DEFERRED.inc()


def pool_checked_out(pool: str) -> None:
    DB_POOL_IN_USE.labels(pool).inc()


def pool_checked_in(pool: str) -> None:
    DB_POOL_IN_USE.labels(pool).dec()


def multiprocess_dir() -> str | None:
    """The directory the processes share their samples through, when in multiprocess mode."""
    return os.environ.get(MULTIPROC_DIR) or None


@contextmanager
def shared_by_processes(processes: int) -> Iterator[None]:
    """Multiprocess mode for the processes started inside (which must first import this
    module there): a fresh directory for their samples, removed afterwards. Nothing to do
    for one process, or when the operator named a directory already."""
    if processes < 2 or multiprocess_dir() is not None:
        yield
        return
    directory = tempfile.mkdtemp(prefix="insights-metrics-")
    os.environ[MULTIPROC_DIR] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROC_DIR]
        shutil.rmtree(directory, ignore_errors=True)


def exposition(extra: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """(body, content type) of a scrape: this process's metrics, or in multiprocess mode
    every process's added up, followed by the `extra` collectors' (made at scrape time)."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory is None:
        registry.register(_Proxy(REGISTRY))
    else:
        forget_dead_processes(directory)
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def forget_dead_processes(directory: str) -> None:
    """Drops the live gauges (pool in use, cache bytes) of processes that are gone, whether
    they stopped cleanly or were killed; counters keep their totals."""
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        pid = int(path.rsplit("_", 1)[1].removesuffix(".db"))
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, though not ours to signal
    return True


class _Proxy(Collector):
    """A registry as one collector of another (registered without being described)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()
