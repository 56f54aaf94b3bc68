"""Rebuilding a service's state from its events alone, and comparing it with what the
service keeps: its snapshots (the stored projections of its aggregates) and the read
models it builds. A difference means a stored projection no longer follows from the
events: it was corrupted, or written by code that has since changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from changeledger.runtime.history import changes, state_of, stored_events
from changeledger.runtime.projection import LiveProjection
from changeledger.runtime.store import ServiceApplication


@dataclass
class Rebuilt:
    service: str
    events: int = 0
    aggregates: int = 0
    snapshots_checked: int = 0
    views: dict[str, int] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(app: ServiceApplication, progress: Callable[[int], None] | None = None) -> Rebuilt:
    """Fold every event into fresh aggregates and fresh read models; compare each
    snapshotted aggregate with what its snapshot gives."""
    report = Rebuilt(app.name)
    started = time.perf_counter()
    fresh: dict[UUID, Any] = {}
    views = {
        name: projection.factory()
        for name, projection in vars(app).items()
        if isinstance(projection, LiveProjection)
    }
    intervals: dict[type, int] = dict(app.snapshotting_intervals or {})
    # Each snapshotted aggregate's state where its latest snapshot should have been
    # taken, so a snapshot is checked against the events before it, not by loading it
    # and the events after it again.
    at_snapshot: dict[UUID, tuple[int, dict[str, Any]]] = {}
    for _, event in stored_events(app):
        aggregate = fresh[event.originator_id] = event.mutate(fresh.get(event.originator_id))
        interval = intervals.get(type(aggregate))
        if interval and aggregate.version % interval == 0:
            at_snapshot[event.originator_id] = (aggregate.version, state_of(aggregate))
        for view in views.values():
            if isinstance(event, view.topics):
                view.apply(event)
        report.events += 1
        if progress is not None and report.events % 10_000 == 0:
            progress(report.events)
    report.aggregates = len(fresh)
    report.views = {name: len(getattr(view, "aggregates", ())) for name, view in views.items()}
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
