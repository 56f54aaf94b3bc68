"""Reading a store in worker processes, each opening the store itself (verifying and
rebuilding a large log).

A spawned worker spends seconds importing, so SQLite stores fork theirs: a worker only
opens the store anew and reads it, and leaves with os._exit, closing none of the parent's
connections. A PostgreSQL store's connection pool runs threads, which a forked child
cannot safely inherit: those spawn.

When one worker fails, the others stop at their next count of events done, so the
failure is reported at once rather than after the rest of their work.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from eventsourcing.sqlite import SQLiteAggregateRecorder

from changeledger.runtime.store import ServiceApplication

_app: ServiceApplication | None = None
#: Events done by all the workers so far, for a progress bar (a shared counter).
_done: Any = None
#: Set when the workers are to stop (a shared event).
_stopping: Any = None


class Stopped(Exception):
    """A worker stopped because another failed."""


@dataclass
class Workers:
    pool: ProcessPoolExecutor
    #: Events done by all the workers so far (its `.value`).
    done: Any
    stopping: Any

    def stop(self) -> None:
        """Make the workers stop at their next count, and wait for them."""
        self.stopping.set()
        self.pool.shutdown(cancel_futures=True)


def worker_pool(app: ServiceApplication, workers: int) -> Workers:
    """A pool of `workers` processes that each open the store."""
    forkable = isinstance(app.recorder, SQLiteAggregateRecorder) and (
        "fork" in multiprocessing.get_all_start_methods()
    )
    context = multiprocessing.get_context("fork" if forkable else "spawn")
    done, stopping = context.Value("q", 0), context.Event()
    # The store is open, so its tables exist: workers creating them at once would race
    # in PostgreSQL's catalog ("tuple concurrently updated").
    opening = (type(app), dict(app.env) | {"CREATE_TABLE": "n"}, done, stopping)
    pool = ProcessPoolExecutor(workers, context, initializer=_open, initargs=opening)
    return Workers(pool, done, stopping)


def _open(
    app_class: type[ServiceApplication], env: dict[str, str], done: Any, stopping: Any
) -> None:
    global _app, _done, _stopping
    _app, _done, _stopping = app_class(env=env), done, stopping


def worker_app() -> ServiceApplication:
    """The store as this worker process opened it."""
    assert _app is not None, "not in a worker process"
    return _app


def count_done(events: int) -> None:
    """Add to the events done by the workers; raises `Stopped` if they are to stop."""
    if _stopping.is_set():
        raise Stopped("another worker failed")
    with _done.get_lock():
        _done.value += events
