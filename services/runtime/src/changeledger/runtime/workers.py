"""Reading a store in worker processes, each opening the store itself (verifying and
rebuilding a large log).

A spawned worker spends seconds importing, so SQLite stores fork theirs: a worker only
opens the store anew and reads it, and leaves with os._exit, closing none of the parent's
connections. A PostgreSQL store's connection pool runs threads, which a forked child
cannot safely inherit: those spawn.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from eventsourcing.sqlite import SQLiteAggregateRecorder

from changeledger.runtime.store import ServiceApplication

_app: ServiceApplication | None = None
#: Events done by all the workers so far, for a progress bar (a shared counter).
_done: Any = None


def worker_pool(app: ServiceApplication, workers: int) -> tuple[ProcessPoolExecutor, Any]:
    """A pool of `workers` processes that each open the store, and their shared count of
    events done (its `.value`)."""
    forkable = isinstance(app.recorder, SQLiteAggregateRecorder) and (
        "fork" in multiprocessing.get_all_start_methods()
    )
    context = multiprocessing.get_context("fork" if forkable else "spawn")
    done = context.Value("q", 0)
    # The store is open, so its tables exist: workers creating them at once would race
    # in PostgreSQL's catalog ("tuple concurrently updated").
    opening = (type(app), dict(app.env) | {"CREATE_TABLE": "n"}, done)
    return ProcessPoolExecutor(workers, context, initializer=_open, initargs=opening), done


def _open(app_class: type[ServiceApplication], env: dict[str, str], done: Any) -> None:
    global _app, _done
    _app, _done = app_class(env=env), done


def worker_app() -> ServiceApplication:
    """The store as this worker process opened it."""
    assert _app is not None, "not in a worker process"
    return _app


def count_done(events: int) -> None:
    """Add to the events done by the workers."""
    with _done.get_lock():
        _done.value += events
