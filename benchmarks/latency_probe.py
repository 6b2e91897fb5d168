"""Latency of small requests while something else runs: a thread that GETs a few paths in
turn, one at a time, every 20 ms, and keeps each answer's time and status."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field

import httpx

PAUSE_SECONDS = 0.02
TIMEOUT_SECONDS = 60


@dataclass
class Latencies:
    """Milliseconds of the answers of one path, and the count of failed ones (a status
    other than 200, or no answer within TIMEOUT_SECONDS)."""

    samples: list[float] = field(default_factory=list)
    failed: int = 0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0

    def summary(self) -> str:
        """median / p95 / p99 / max in ms, the number of answers and of failures."""
        if not self.samples:
            return f"no answer ({self.failed} failed)"
        median = statistics.median(self.samples)
        figures = "/".join(
            f"{value:.1f}"
            for value in (median, self.percentile(0.95), self.percentile(0.99), max(self.samples))
        )
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{figures} ms (n={len(self.samples)}{failed})"


class LatencyProbe:
    """GETs `paths` in turn until the block ends; `results[path]` holds what it saw."""

    def __init__(self, base: str, paths: list[str], headers: dict[str, str]) -> None:
        self.paths = paths
        self.results = {path: Latencies() for path in paths}
        self._client = httpx.Client(base_url=base, headers=headers, timeout=TIMEOUT_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def __enter__(self) -> LatencyProbe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._client.close()

    def _probe(self) -> None:
        turn = 0
        while not self._stop.wait(PAUSE_SECONDS):
            path = self.paths[turn % len(self.paths)]
            turn += 1
            started = time.perf_counter()
            try:
                status = self._client.get(path).status_code
            except httpx.TransportError:
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            if status == 200:
                self.results[path].samples.append(elapsed)
            else:
                self.results[path].failed += 1
