"""Store calls from async code, in worker threads that a service can wait for.

eventsourcing is synchronous, so the relay and the consumers call it through threads. A
cancelled `await` does not stop its thread, and closing a store under a running thread
can crash the process; so a service waits for its threads before it closes its store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class WorkerThreads:
    def __init__(self) -> None:
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        self._in_flight += 1
        self._idle.clear()
        work = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
        work.add_done_callback(self._finished)
        # Shielded: cancelling the caller leaves the thread's work to finish on its own.
        return await asyncio.shield(work)

    def _finished(self, _: object) -> None:
        self._in_flight -= 1
        if not self._in_flight:
            self._idle.set()

    async def drain(self, timeout: float = 15.0) -> bool:
        """Wait until no thread is running; False if some still were after `timeout`."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
