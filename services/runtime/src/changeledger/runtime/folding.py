"""Folding a share of a store's log (`rawlog.Share`: the events of some of its
aggregates) into fresh aggregates and fresh read models, and checking those aggregates'
snapshots: what `rebuild` does, in one process or in several.

Every read model is an `AggregateIndex`, whose content is its aggregates, each folded
from its own events only: so what each share folds into them is theirs, the shares
together hold what the whole log gives, and a share can be folded aggregate by aggregate
rather than in log order.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from changeledger.runtime.history import changes, state_of
from changeledger.runtime.mutation import Mutate, mutator
from changeledger.runtime.projection import AggregateIndex, LiveProjection, Projection
from changeledger.runtime.rawlog import (
    ALL,
    RawSnapshot,
    Share,
    latest_snapshots,
    raw_log,
    raw_share,
)
from changeledger.runtime.store import ServiceApplication

#: Events between progress reports.
PROGRESS_EVERY = 10_000


@dataclass
class Folded:
    """What one share of the log gives."""

    events: int = 0
    aggregates: int = 0
    snapshots_checked: int = 0
    #: How many aggregates each read model holds.
    views: dict[str, int] = field(default_factory=dict)
    #: Each compared read model's `fingerprint_line`s, by aggregate id.
    lines: dict[str, dict[str, bytes]] = field(default_factory=dict)
    #: What snapshots say differently from the events, each after the log position of
    #: its aggregate's first event (to report them in log order).
    differences: list[tuple[int, str]] = field(default_factory=list)


def live_views(app: ServiceApplication) -> dict[str, LiveProjection[Any]]:
    return {name: p for name, p in vars(app).items() if isinstance(p, LiveProjection)}


def fingerprint_line(aggregate_id: UUID, aggregate: Any) -> bytes:
    """What a read model's fingerprint covers of one of its aggregates."""
    entry = [str(aggregate_id), aggregate.version, state_of(aggregate)]
    return json.dumps(entry, sort_keys=True, default=str).encode() + b"\n"


def fingerprint(lines: dict[str, bytes]) -> dict[str, Any]:
    """How many aggregates a read model holds, and one hash over their lines in the
    order of their ids: equal for two views folded from the same events, in any process."""
    digest = hashlib.sha256()
    for aggregate_id in sorted(lines):
        digest.update(lines[aggregate_id])
    return {"aggregates": len(lines), "sha256": digest.hexdigest()}


def fold(
    app: ServiceApplication,
    share: Share,
    until: dict[str, int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Folded:
    """Fold the share's events, and check its snapshots. Given `until` (to compare the
    read models with live ones: their lines are kept), each read model named there is
    folded up to that log position only. `progress` is called with the events folded
    since its last call."""
    with _collector_paused():
        return _fold(app, share, until, progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Folding makes no reference cycles, but the collector's passes over its growing
    heap of fresh aggregates took a third of its time. (The collector is process-wide:
    this is for a process that does nothing else meanwhile, as a rebuild's.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fold(
    app: ServiceApplication,
    share: Share,
    until: dict[str, int] | None,
    progress: Callable[[int], None] | None,
) -> Folded:
    folded = Folded()
    views = {name: projection.factory() for name, projection in live_views(app).items()}
    compared = until or {}
    # With no live read model to compare, an aggregate that a read model indexes is
    # folded once, for both: the read model's copy is the fresh aggregate.
    sharing = set() if until else {n for n, v in views.items() if isinstance(v, AggregateIndex)}
    intervals: dict[type, int] = dict(app.snapshotting_intervals or {})
    # Each snapshotted aggregate's state where its latest snapshot should have been
    # taken, so a snapshot is checked against the events before it, not by loading it
    # and the events after it again.
    at_snapshot: dict[str, tuple[int, dict[str, Any]]] = {}
    # Keyed by the ids as read, which hash faster than UUIDs.
    fresh: dict[str, Any] = {}
    first: dict[str, int] = {}
    ids: dict[str, UUID] = {}
    # The read models each event class goes to (for an `AggregateIndex` that shares the
    # fresh aggregates and folds them as it does, the fold is then done here, once), and
    # how it mutates an aggregate.
    routes: dict[type, tuple[list[Route], Mutate]] = {}
    decode = app.decoder.decode
    events, report_at = 0, PROGRESS_EVERY
    rows = raw_log(app) if share == ALL else raw_share(app, share)
    for position, key, version, topic, state in rows:
        originator_id = ids.get(key)
        if originator_id is None:
            originator_id = ids[key] = UUID(key)
            first[key] = position
        event = decode(topic, originator_id, version, state)
        known = routes.get(type(event))
        if known is None:
            known = routes[type(event)] = (
                _route(views, event, compared, sharing),
                mutator(type(event)),
            )
        route, mutate = known
        current: Any = fresh.get(key)
        aggregate = None
        for name, view, limit, index in route:
            if limit is not None and position > limit:
                continue
            if index is not None and aggregate is None and index.get(originator_id) is current:
                aggregate = mutate(event, current)
                if aggregate is not current:  # (else the index holds it already)
                    index[originator_id] = aggregate
                continue
            view.apply(event)
            if aggregate is None and name in sharing:
                indexed = view.aggregates.get(originator_id)  # type: ignore[attr-defined]
                if indexed is not None and fresh.get(key, indexed) is indexed:
                    aggregate = indexed
        if aggregate is None:
            aggregate = mutate(event, current)
        if aggregate is not current or current is None:  # (else it holds it already)
            fresh[key] = aggregate
        interval = intervals.get(type(aggregate))
        if interval and aggregate.version % interval == 0:
            at_snapshot[key] = (aggregate.version, state_of(aggregate))
        events += 1
        if events == report_at:
            report_at += PROGRESS_EVERY
            if progress is not None:
                progress(PROGRESS_EVERY)
    if progress is not None:
        progress(events % PROGRESS_EVERY)
    folded.events = events
    folded.aggregates = len(fresh)
    for name, view in views.items():
        held: dict[UUID, Any] = getattr(view, "aggregates", {})
        folded.views[name] = len(held)
        if until is not None:
            folded.lines[name] = {str(i): fingerprint_line(i, a) for i, a in held.items()}
    snapshots = latest_snapshots(app, [ids[key] for key in fresh])
    for key, aggregate in fresh.items():
        aggregate_id = ids[key]
        latest = snapshots.get(aggregate_id)
        if latest is None:
            continue
        differences = _snapshot_differences(
            app, decode, aggregate_id, aggregate, at_snapshot.get(key), latest
        )
        folded.snapshots_checked += 1
        folded.differences += [(first[key], d) for d in differences]
    return folded


#: A read model an event goes to: its name, itself, the log position it is folded to (None:
#: all of the log) and, for an `AggregateIndex` whose aggregates the fold shares, those.
Route = tuple[str, Projection, int | None, dict[UUID, Any] | None]


def _route(
    views: dict[str, Projection], event: Any, until: dict[str, int], sharing: set[str]
) -> list[Route]:
    return [
        (name, view, until.get(name), _plain_index(view) if name in sharing else None)
        for name, view in views.items()
        if isinstance(event, view.topics)
    ]


def _plain_index(view: Projection) -> dict[UUID, Any] | None:
    """The aggregates of an `AggregateIndex` that folds them as such, and does no more."""
    plain = isinstance(view, AggregateIndex) and type(view).apply is AggregateIndex.apply
    return view.aggregates if isinstance(view, AggregateIndex) and plain else None


def _snapshot_differences(
    app: ServiceApplication,
    decode: Callable[[str, UUID, int, bytes], Any],
    aggregate_id: UUID,
    aggregate: Any,
    at_snapshot: tuple[int, dict[str, Any]] | None,
    latest: RawSnapshot,
) -> list[str]:
    """What the aggregate's latest snapshot says differently from its events."""
    version, replayed = at_snapshot or (None, {})
    stored_version, topic, state = latest
    if version == stored_version:
        snapshot = decode(topic, aggregate_id, stored_version, state)
        stored = state_of(snapshot.mutate(None))
    else:  # taken off the usual interval: compare where the snapshot leads
        stored, replayed = state_of(app.repository.get(aggregate_id)), state_of(aggregate)
    if stored == replayed:
        return []
    return [
        f"{type(aggregate).__name__} {aggregate_id}: {name} is {was!r} from its snapshot, "
        f"{now!r} from its events"
        for name, was, now in changes(stored, replayed)
    ]
