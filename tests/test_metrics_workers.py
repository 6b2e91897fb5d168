"""`insights serve --workers 2`, the real server in a subprocess: the counters of both
workers add up, and whichever worker answers a scrape reports the total."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.support.metrics import parse, total
from tests.support.processes import server_process
from tests.support.served import TLS

MAX_REQUESTS = 400


def _get(url: str) -> httpx2.Response:
    """A request on a connection of its own, so successive ones may reach either worker."""
    return httpx2.get(url, headers={"Connection": "close"}, timeout=10, verify=TLS)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def _samples_dir(server_pid: int) -> Path:
    """The directory the workers write their samples to, read from a worker's environment."""
    for child in _children(server_pid):
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        for entry in environ:
            if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                return Path(entry.split(b"=", 1)[1].decode())
    raise AssertionError("no worker runs in multiprocess mode")


def _counting_pids(directory: Path) -> set[str]:
    return {path.stem.split("_")[-1] for path in directory.glob("counter_*.db")}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    url = f"sqlite:///{tmp_path / 'insights.db'}"
    with server_process(url, tmp_path / "server.log", workers=2) as served:
        yield served


def test_counters_add_up_across_two_workers(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, process = server
    directory = _samples_dir(process.pid)
    made = 0
    # Fresh connections land on either worker; go on until both have counted some.
    while made < MAX_REQUESTS and (made < 20 or len(_counting_pids(directory)) < 2):
        assert _get(f"{base}/healthz").status_code == 200
        made += 1
    assert len(_counting_pids(directory)) == 2, f"one worker took all {made} requests"
    seen = []
    for _ in range(6):  # each scrape reaches one worker or the other: all must agree
        response = _get(f"{base}/metrics")
        assert response.status_code == 200
        samples = parse(response.text)
        seen.append(total(samples, "insights_http_requests_total", route="/healthz"))
    assert seen == [made] * len(seen)
    directory_of_server = directory
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert not directory_of_server.exists()  # serve removes what the workers wrote
