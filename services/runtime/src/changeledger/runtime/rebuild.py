"""Rebuilding a service's state from its events alone, and comparing it with what the
service keeps: its snapshots (the stored projections of its aggregates) and, given the
fingerprints of a running service's read models, those too. A difference means a
projection no longer follows from the events: it was corrupted, or built by code that
has since changed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from changeledger.runtime.history import changes, state_of, stored_events
from changeledger.runtime.projection import AggregateIndex, LiveProjection, Projection
from changeledger.runtime.store import ServiceApplication


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
    digest = hashlib.sha256()
    for aggregate_id in sorted(aggregates, key=str):
        aggregate = aggregates[aggregate_id]
        entry = [str(aggregate_id), aggregate.version, state_of(aggregate)]
        digest.update(json.dumps(entry, sort_keys=True, default=str).encode() + b"\n")
    return {"aggregates": len(aggregates), "sha256": digest.hexdigest()}


def live_views(app: ServiceApplication) -> dict[str, LiveProjection[Any]]:
    return {name: p for name, p in vars(app).items() if isinstance(p, LiveProjection)}


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
) -> Rebuilt:
    """Fold every event into fresh aggregates and fresh read models; compare each
    snapshotted aggregate with what its snapshot gives and, given a running service's
    `live_fingerprints`, each read model with its live one (folded to the same position)."""
    report = Rebuilt(app.name)
    started = time.perf_counter()
    fresh: dict[UUID, Any] = {}
    views = {name: projection.factory() for name, projection in live_views(app).items()}
    # A live view may be behind or ahead of the store as read here: fold each rebuilt one
    # only as far as its live counterpart had.
    until = {name: int(theirs["position"]) for name, theirs in (live or {}).items()}
    intervals: dict[type, int] = dict(app.snapshotting_intervals or {})
    # Each snapshotted aggregate's state where its latest snapshot should have been
    # taken, so a snapshot is checked against the events before it, not by loading it
    # and the events after it again.
    at_snapshot: dict[UUID, tuple[int, dict[str, Any]]] = {}
    # With no live read model to compare, an aggregate that a read model indexes is
    # folded once, for both: the read model's copy is the fresh aggregate.
    sharing = set() if live else {n for n, v in views.items() if isinstance(v, AggregateIndex)}
    for position, event in stored_events(app):
        originator_id = event.originator_id
        aggregate = None
        for name, view in views.items():
            if isinstance(event, view.topics) and position <= until.get(name, position):
                view.apply(event)
                if aggregate is None and name in sharing:
                    indexed = view.aggregates.get(originator_id)
                    if indexed is not None and fresh.get(originator_id, indexed) is indexed:
                        aggregate = indexed
        if aggregate is None:
            aggregate = event.mutate(fresh.get(originator_id))
        fresh[originator_id] = aggregate
        interval = intervals.get(type(aggregate))
        if interval and aggregate.version % interval == 0:
            at_snapshot[originator_id] = (aggregate.version, state_of(aggregate))
        report.events += 1
        if progress is not None and report.events % 10_000 == 0:
            progress(report.events)
    report.aggregates = len(fresh)
    report.views = {name: len(getattr(view, "aggregates", ())) for name, view in views.items()}
    if live is not None:
        report.differences += _read_model_differences(views, live)
        report.views_compared = len(views)
    for aggregate_id in fresh:
        differences = _snapshot_differences(app, aggregate_id, fresh, at_snapshot)
        if differences is not None:
            report.snapshots_checked += 1
            report.differences += differences
    report.seconds = time.perf_counter() - started
    return report


def _snapshot_differences(
    app: ServiceApplication,
    aggregate_id: UUID,
    fresh: dict[UUID, Any],
    at_snapshot: dict[UUID, tuple[int, dict[str, Any]]],
) -> list[str] | None:
    """What the aggregate's latest snapshot says differently from its events (None
    when it has no snapshot)."""
    if app.snapshots is None:
        return None
    snapshot: Any = next(iter(app.snapshots.get(aggregate_id, desc=True, limit=1)), None)
    if snapshot is None:
        return None
    version, replayed = at_snapshot.get(aggregate_id, (None, {}))
    if version == snapshot.originator_version:
        stored = state_of(snapshot.mutate(None))
    else:  # taken off the usual interval: compare where the snapshot leads
        stored, replayed = state_of(app.repository.get(aggregate_id)), state_of(fresh[aggregate_id])
    aggregate = fresh[aggregate_id]
    return [
        f"{type(aggregate).__name__} {aggregate_id}: {name} is {was!r} from its snapshot, "
        f"{now!r} from its events"
        for name, was, now in changes(stored, replayed)
    ]


def _read_model_differences(
    views: dict[str, Projection], live: dict[str, dict[str, Any]]
) -> list[str]:
    differences = []
    for name, view in views.items():
        theirs = live.get(name)
        if theirs is None:
            differences.append(f"read model {name}: the running service did not report it")
            continue
        ours = fingerprint(view)
        if (ours["aggregates"], ours["sha256"]) != (theirs["aggregates"], theirs["sha256"]):
            differences.append(
                f"read model {name} (to log position {theirs['position']}): the running "
                f"service holds {theirs['aggregates']} aggregates (sha256 "
                f"{str(theirs['sha256'])[:12]}), the events give {ours['aggregates']} "
                f"(sha256 {ours['sha256'][:12]})"
            )
    return differences
