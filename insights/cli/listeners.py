"""`serve --workers N` with a listening socket of its own per worker (SO_REUSEPORT), so that
the kernel spreads new connections over the workers.

uvicorn's workers share one socket the parent bound: each new connection wakes every worker,
and the first to run accepts all that are queued. A client that opens its keep-alive
connections at once (a load balancer, wrk) then finds most of them on one worker, which
serves them alone for as long as they live: 32 connections came out 32/0 and 29/3 on two
workers (docs/benchmarks.md). With a socket per worker Linux hashes each connection to one
of them. Elsewhere (no SO_REUSEPORT, or no balancing with it) uvicorn's shared socket stays."""

from __future__ import annotations

import socket
import sys
from typing import Any, cast

import uvicorn
from uvicorn.supervisors import Multiprocess


class OwnSocket:
    """Stands for the listening socket in what uvicorn's supervisor hands each worker it
    starts (pickled into the new process): unpickled there as a socket of the worker's own."""

    def __init__(self, host: str, port: int, backlog: int) -> None:
        self.address = (host, port, backlog)

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        return (listening_socket, self.address)


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A TCP socket listening on (host, port) beside the other workers' (SO_REUSEPORT). Made
    with proto TCP, so that asyncio sets TCP_NODELAY on the connections it accepts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def run_workers(config: uvicorn.Config) -> bool:
    """Runs config.workers workers, each on a socket of its own, until they stop; False (and
    nothing run) where that cannot balance connections: not Linux, or a port chosen by the
    system (each worker would get another one)."""
    if not sys.platform.startswith("linux") or config.port == 0 or config.uds or config.fd:
        return False
    # Fails here, once, if the address is taken; closed at once, so that no connection is
    # hashed to a socket nobody accepts on.
    listening_socket(config.host, config.port, config.backlog).close()
    listener = cast(socket.socket, OwnSocket(config.host, config.port, config.backlog))
    Multiprocess(config, sockets=[listener]).run()
    return True
