"""`serve --workers N` gives each worker a listening socket of its own: what uvicorn's
supervisor pickles for a worker becomes, in it, a TCP socket on the same address beside the
others', and Linux spreads connections over them (one shared socket let one worker take them
all). `serve --workers 2` itself is served for real in tests/test_metrics_workers.py."""

from __future__ import annotations

import pickle
import socket
import sys
from contextlib import ExitStack

import pytest

from insights.cli.listeners import OwnSocket

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's balancing")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_each_worker_unpickles_a_listening_tcp_socket_of_its_own_on_the_address() -> None:
    port = _free_port()
    with ExitStack() as stack:
        workers = [
            stack.enter_context(pickle.loads(pickle.dumps(OwnSocket("127.0.0.1", port, 64))))
            for _ in range(2)
        ]
        for sock in workers:
            assert sock.getsockname() == ("127.0.0.1", port)
            assert sock.proto == socket.IPPROTO_TCP  # asyncio then sets TCP_NODELAY
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
        assert workers[0].fileno() != workers[1].fileno()


def test_connections_are_spread_over_the_workers_sockets() -> None:
    port, connections = _free_port(), 32
    with ExitStack() as stack:
        workers = [
            stack.enter_context(pickle.loads(pickle.dumps(OwnSocket("127.0.0.1", port, 64))))
            for _ in range(2)
        ]
        for _ in range(connections):
            stack.enter_context(socket.create_connection(("127.0.0.1", port)))
        accepted = [_accept_all(sock, stack) for sock in workers]
    assert sum(accepted) == connections
    # Hashed by the client's port: all 32 on one socket has a chance of 2 in 4 billion.
    assert min(accepted) > 0, accepted


def _accept_all(sock: socket.socket, stack: ExitStack) -> int:
    sock.setblocking(False)
    count = 0
    while True:
        try:
            stack.enter_context(sock.accept()[0])
        except BlockingIOError:
            return count
        count += 1
