"""A TCP proxy of the tests' own, between the service and PostgreSQL or Redis, that can cut,
stall and slow the connection: what the fault suite does to the network.

Every loop here waits with a timeout and checks the proxy's stop flag, so nothing outlives
`close()` by more than one tick."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit, urlunsplit

TICK = 0.05
CHUNK = 1 << 16


class FaultProxy:
    """Listens on 127.0.0.1 (a free port) and forwards each connection to `target`.

    - `cut()`: closes every open connection and refuses new ones (they are closed at once).
    - `stall()`: forwards nothing in either direction, and accepts new connections without
      forwarding for them either: a server that stopped answering.
    - `slow(seconds)`: every chunk waits that long before it is forwarded: a long network.
    - `cut_after(n)`: cuts once `n` more bytes have gone to the server.
    - `restore()`: forwards normally again (a stall resumes where it stopped)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.mode = "pass"
        self.delay = 0.0
        self.to_server = 0  # bytes forwarded to the server, in total
        self._cut_at: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(TICK)
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def url(self, url: str) -> str:
        """`url` (of the target) with the proxy's address in its place."""
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)
        address = f"127.0.0.1:{self.port}"
        return urlunsplit(
            parts._replace(netloc=f"{netloc[0]}@{address}" if len(netloc) > 1 else address)
        )

    def cut(self) -> None:
        with self._lock:
            self.mode = "cut"
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def stall(self) -> None:
        self.mode = "stall"

    def slow(self, seconds: float) -> None:
        self.delay, self.mode = seconds, "slow"

    def cut_after(self, more_bytes: int) -> None:
        self._cut_at = self.to_server + more_bytes

    def restore(self) -> None:
        self._cut_at = None
        self.mode = "pass"

    def close(self) -> None:
        self._stop.set()
        self.cut()
        _close(self._listener)
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            if self.mode == "cut":
                _close(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets |= {client, server}
            for source, sink, upstream in ((client, server, True), (server, client, False)):
                thread = threading.Thread(
                    target=self._pump, args=(source, sink, upstream), daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        source.settimeout(TICK)
        while not self._stop.is_set():
            if self.mode == "stall":
                time.sleep(TICK)
                continue
            try:
                data = source.recv(CHUNK)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data or self.mode == "cut":
                break
            if self.mode == "slow":
                time.sleep(self.delay)
            try:
                sink.sendall(data)
            except OSError:
                break
            if upstream:
                self._count(len(data))
        _close(source)
        _close(sink)

    def _count(self, sent: int) -> None:
        self.to_server += sent
        if self._cut_at is not None and self.to_server >= self._cut_at:
            self._cut_at = None
            self.cut()


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@contextmanager
def fault_proxy(url: str) -> Iterator[tuple[FaultProxy, str]]:
    """A proxy in front of the server of `url` (postgresql+psycopg:// or redis://), and the
    same URL through it."""
    parts = urlsplit(url)
    proxy = FaultProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        yield proxy, proxy.url(url)
    finally:
        proxy.close()
