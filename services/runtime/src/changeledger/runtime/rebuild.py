"""Rebuilding a service's state from its events alone, and comparing it with what the
service keeps: its snapshots (the stored projections of its aggregates) and, given the
fingerprints of a running service's read models, those too. A difference means a
projection no longer follows from the events: it was corrupted, or built by code that
has since changed.

A large log is folded in several processes (`workers`), each folding the events of its
own share of the aggregates (`folding.py`); the answer is the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, wait
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from changeledger.runtime import folding
from changeledger.runtime.folding import Folded, fingerprint_line, fold, live_views
from changeledger.runtime.projection import AggregateIndex, LiveProjection, Projection
from changeledger.runtime.rawlog import ALL, Share, can_share
from changeledger.runtime.store import ServiceApplication
from changeledger.runtime.workers import count_done, worker_app, worker_pool

#: Logs shorter than this are folded in one process: starting workers would cost more.
PARALLEL_FROM = 100_000
#: Seconds between progress reports from workers.
_POLL = 0.5


@dataclass
class Rebuilt:
    service: str
    events: int = 0
    aggregates: int = 0
    snapshots_checked: int = 0
    views: dict[str, int] = field(default_factory=dict)
    #: Read models compared with the running service's.
    views_compared: int = 0
    differences: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def fingerprint(view: Projection) -> dict[str, Any]:
    """How many aggregates a read model holds, and one hash over their versions and
    states: equal for two views folded from the same events, in any process."""
    aggregates: dict[UUID, Any] = getattr(view, "aggregates", {})
    return folding.fingerprint({str(i): fingerprint_line(i, a) for i, a in aggregates.items()})


def live_fingerprints(app: ServiceApplication) -> dict[str, dict[str, Any]]:
    """Each read model the service keeps, brought up to date: the log position it has
    folded to, and its fingerprint (call from a worker thread: it reads the store)."""

    def current(projection: LiveProjection[Any]) -> dict[str, Any]:
        return projection.query(lambda view: {"position": projection.position} | fingerprint(view))

    return {name: current(projection) for name, projection in live_views(app).items()}


def rebuild(
    app: ServiceApplication,
    progress: Callable[[int], None] | None = None,
    live: dict[str, dict[str, Any]] | None = None,
    workers: int = 1,
    parallel_from: int = PARALLEL_FROM,
) -> Rebuilt:
    """Fold every event into fresh aggregates and fresh read models; compare each
    snapshotted aggregate with what its snapshot gives and, given a running service's
    `live_fingerprints`, each read model with its live one (folded to the same position).
    With `workers` above 1, a log of `parallel_from` events or more is folded in that
    many processes, each opening the store."""
    report = Rebuilt(app.name)
    started = time.perf_counter()
    # A live view may be behind or ahead of the store as read here: fold each rebuilt one
    # only as far as its live counterpart had.
    until = None if live is None else {n: int(theirs["position"]) for n, theirs in live.items()}
    folds = _folded(app, _shares(app, workers, parallel_from), until, progress)
    report.events = sum(f.events for f in folds)
    report.aggregates = sum(f.aggregates for f in folds)
    report.snapshots_checked = sum(f.snapshots_checked for f in folds)
    names = list(live_views(app))
    report.views = {name: sum(f.views[name] for f in folds) for name in names}
    if live is not None:
        ours = {name: folding.fingerprint(_merged(f.lines[name] for f in folds)) for name in names}
        report.differences += _read_model_differences(ours, live)
        report.views_compared = len(names)
    by_position = sorted((d for f in folds for d in f.differences), key=lambda d: d[0])
    report.differences += [difference for _, difference in by_position]
    report.seconds = time.perf_counter() - started
    return report


def _shares(app: ServiceApplication, workers: int, parallel_from: int) -> list[Share]:
    if workers < 2 or not can_share(app):
        return [ALL]
    views = [projection.factory() for projection in live_views(app).values()]
    if not all(isinstance(view, AggregateIndex) for view in views):
        return [ALL]  # a read model that is more than its aggregates needs the whole log
    if (app.process_recorder.max_notification_id() or 0) < parallel_from:
        return [ALL]
    return [Share(number, of=workers) for number in range(workers)]


def _folded(
    app: ServiceApplication,
    shares: list[Share],
    until: dict[str, int] | None,
    progress: Callable[[int], None] | None,
) -> list[Folded]:
    if len(shares) == 1:
        done = 0

        def advance(events: int) -> None:
            nonlocal done
            done += events
            if progress is not None:
                progress(done)

        return [fold(app, shares[0], until, advance)]
    workers = worker_pool(app, len(shares))
    try:
        futures = [workers.pool.submit(_fold_in_worker, share, until) for share in shares]
        while True:
            _, pending = wait(futures, timeout=_POLL, return_when=FIRST_EXCEPTION)
            if progress is not None:
                progress(workers.done.value)
            failed = [f for f in futures if f.done() and f.exception() is not None]
            if failed or not pending:  # a failure is raised without waiting for the rest
                return [future.result() for future in failed + futures]
    finally:
        workers.stop()


def _fold_in_worker(share: Share, until: dict[str, int] | None) -> Folded:
    return fold(worker_app(), share, until, count_done)


def _merged(parts: Iterable[dict[str, bytes]]) -> dict[str, bytes]:
    merged: dict[str, bytes] = {}
    for part in parts:
        merged |= part
    return merged


def _read_model_differences(
    ours: dict[str, dict[str, Any]], live: dict[str, dict[str, Any]]
) -> list[str]:
    differences = []
    for name, mine in ours.items():
        theirs = live.get(name)
        if theirs is None:
            differences.append(f"read model {name}: the running service did not report it")
            continue
        if (mine["aggregates"], mine["sha256"]) != (theirs["aggregates"], theirs["sha256"]):
            differences.append(
                f"read model {name} (to log position {theirs['position']}): the running "
                f"service holds {theirs['aggregates']} aggregates (sha256 "
                f"{str(theirs['sha256'])[:12]}), the events give {mine['aggregates']} "
                f"(sha256 {mine['sha256'][:12]})"
            )
    return differences
