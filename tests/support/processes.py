"""`insights serve` in a subprocess of its own (127.0.0.1, a free port): for tests about
what several processes of the service, or several workers of one, see of each other."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx2

from tests.support.cli import INSIGHTS, cli_env
from tests.support.served import TLS

STARTUP_SECONDS = 150
POLL_SECONDS = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served_process(url: str, log: Path, **settings: str) -> Iterator[str]:
    """The base URL of `insights serve` (one worker) on the database at `url`, with these
    INSIGHTS_ settings (by field name), rate limits and the warm-up off, until the block
    ends."""
    with server_process(url, log, 1, settings) as (base, _process):
        yield base


@contextmanager
def server_process(
    url: str, log: Path, workers: int, settings: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """served_process with `workers` worker processes, and the server's process (stopped
    with SIGTERM when the block ends, unless the test stopped it itself)."""
    port = free_port()
    # The warm-up costs each process a demo workspace's reports: only
    # tests/test_load_sizing.py's test of it asks for it.
    defaults = {"rate_limit_per_minute": "0", "rate_limit_per_second": "0", "warm_up": "false"}
    env = cli_env(url, log_level="warning", **{**defaults, **(settings or {})})
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [INSIGHTS, "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_ready(base, process, log)
            yield base, process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_until_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited:\n{log.read_text()}"
        try:
            if httpx2.get(f"{base}/readyz", timeout=10, verify=TLS).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"not ready within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")
