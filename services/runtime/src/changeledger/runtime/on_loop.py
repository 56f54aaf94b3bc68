"""Commands on the event loop: only their writes wait, in a thread.

eventsourcing is synchronous. Run in a worker thread, a command paid for the hop there
and back, and for turns of the GIL with the commands in the other threads. Here it runs
in a greenlet on the event loop (greenback's portal) and is suspended, not blocked, where
it waits for its write: the group commit's writing thread wakes the loop once for the
whole group. In one process on SQLite this took `POST /releases` from 0.42-0.44 of the
raw save rate to 0.67-0.73 (bench/commands.py, 32 clients; docs/operations.md).

A command still reads the store on the loop, so this is only for stores read within the
process (SQLite; `ServiceApplication.commands_on_loop`): reading PostgreSQL is a round
trip to a server, which would stall every other request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import greenback

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


async def run_on_loop(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call `fn` on the event loop, where it may `suspend` until something is done."""
    return await greenback.with_portal_run_sync(fn, *args, **kwargs)


def on_loop() -> bool:
    """Whether the caller runs within `run_on_loop`, so that it may `suspend`."""
    return greenback.has_portal()


def suspend(awaitable: Awaitable[T]) -> T:
    """Within `run_on_loop`: let the loop run other tasks until `awaitable` is done."""
    return greenback.await_(awaitable)


def off_the_loop(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call `fn`; from within `run_on_loop`, in a worker thread, suspended meanwhile (for
    what may take long, or waits for a lock that a thread holds)."""
    if on_loop():
        return suspend(asyncio.to_thread(fn, *args, **kwargs))
    return fn(*args, **kwargs)
