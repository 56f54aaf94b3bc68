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
    for _, event in stored_events(app):
        fresh[event.originator_id] = event.mutate(fresh.get(event.originator_id))
        for view in views.values():
            if isinstance(event, view.topics):
                view.apply(event)
        report.events += 1
        if progress is not None and report.events % 10_000 == 0:
            progress(report.events)
    report.aggregates = len(fresh)
    report.views = {name: len(getattr(view, "aggregates", ())) for name, view in views.items()}
    for aggregate_id, aggregate in fresh.items():
        if not app.snapshots or not app.snapshots.recorder.select_events(aggregate_id, limit=1):
            continue
        report.snapshots_checked += 1
        served: Any = app.repository.get(aggregate_id)
        for name, stored, replayed in changes(state_of(served), state_of(aggregate)):
            report.differences.append(
                f"{type(aggregate).__name__} {aggregate_id}: {name} is {stored!r} from its "
                f"snapshot, {replayed!r} from its events"
            )
    report.seconds = time.perf_counter() - started
    return report
