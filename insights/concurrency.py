"""Calling blocking code from async code, the one way: anyio's worker threads."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from typing import TypeVar, TypeVarTuple

import anyio.from_thread
import anyio.to_thread

Result = TypeVar("Result")
Args = TypeVarTuple("Args")
Item = TypeVar("Item")


async def run_blocking(function: Callable[[*Args], Result], *args: *Args) -> Result:
    """`function(*args)` on a worker thread, awaited: the event loop serves others meanwhile."""
    return await anyio.to_thread.run_sync(function, *args)


def iterate_from_thread(items: AsyncIterable[Item]) -> Iterator[Item]:
    """The items of an async iterable (a request body), for code running in a worker thread
    that run_blocking started: each item is awaited on the event loop."""
    iterator = aiter(items)
    while True:
        try:
            yield anyio.from_thread.run(_next, iterator)
        except StopAsyncIteration:
            return


async def _next(iterator: AsyncIterator[Item]) -> Item:
    return await anext(iterator)
