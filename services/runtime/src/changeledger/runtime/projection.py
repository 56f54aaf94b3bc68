"""Read models built from a service's own store: listings, calendars, reports.

A projection is plain code that folds domain events into a view:

    class ReleaseList(Projection):
        topics = (Release.Planned, Release.Scheduled)
        def __init__(self) -> None:
            self.releases: dict[UUID, Summary] = {}
        def apply(self, event: Any) -> None:
            ...

`LiveProjection` keeps one up to date with the store. Once a query has read the history,
what this process saves is folded in as it is committed, from the events in hand; each
query then takes in whatever other processes saved since (indexed reads), so it sees
every command answered before it, and runs under a lock, so it never sees half an update.
`query(fn, as_of=t)` folds the log up to `t` into a fresh copy, for time travel.

`AggregateIndex` is the projection most listings need: the aggregates of some classes,
kept current by their own events, so a listing can filter and sort them freely.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.persistence import Recording
from eventsourcing.utils import get_topic

from changeledger.runtime.domain import Aggregate
from changeledger.runtime.on_loop import off_the_loop
from changeledger.runtime.recent import GAPS_READ_ONE_BY_ONE, RecentSaves
from changeledger.runtime.store import ServiceApplication


class Projection:
    #: The event classes it folds; only these are read from the store.
    topics: ClassVar[tuple[type, ...]] = ()

    def apply(self, event: Any) -> None:
        raise NotImplementedError


P = TypeVar("P", bound=Projection)
R = TypeVar("R")
A = TypeVar("A", bound=Aggregate)


class AggregateIndex(Projection):
    """The aggregates of `indexed` classes, each rebuilt by its own events."""

    indexed: ClassVar[tuple[type[Aggregate], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Read only these aggregates' events from the store.
        cls.topics = tuple(
            value
            for aggregate in cls.indexed
            for value in vars(aggregate).values()
            if isinstance(value, type) and issubclass(value, aggregate.Event)
        )

    def __init__(self) -> None:
        self.aggregates: dict[UUID, Any] = {}
        self._events = tuple(cls.Event for cls in self.indexed)

    def apply(self, event: Any) -> None:
        if isinstance(event, self._events):
            current = self.aggregates.get(event.originator_id)
            self.aggregates[event.originator_id] = event.mutate(current)

    def all(self, cls: type[A]) -> list[A]:
        return [a for a in self.aggregates.values() if isinstance(a, cls)]

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        found = self.aggregates.get(aggregate_id)
        return found if isinstance(found, cls) else None


_BATCH = 1000
_LARGE_FOLD = 10_000


class LiveProjection(Generic[P]):
    #: Saves of this process kept for the view while it cannot fold them (a query is
    #: folding, or other processes' saves come first), at most; beyond, the store has them.
    pending_limit = 5_000

    def __init__(self, app: ServiceApplication, factory: Callable[[], P]) -> None:
        self.app = app
        self.factory = factory
        self._view = factory()
        self._position = 0
        self._lock = threading.Lock()
        self._topics = [get_topic(cls) for cls in self._view.topics]
        if not self._view.topics:
            raise ValueError(f"{factory} names no event classes to fold (`topics`)")
        self._folded = frozenset(self._view.topics)
        #: This process's saves not folded yet: (log position, the event if the view
        #: folds it). Kept once a query has read the history: before, they have nothing
        #: to follow, and are left to that first read.
        self._saves: RecentSaves[Any] = RecentSaves(self.pending_limit)
        # Folding as the log grows, rather than at the next query: a busy service's
        # periodic job would otherwise fold seconds of history at once (and decode it
        # again), holding the interpreter from everything else for tens of ms.
        app.on_recorded(self._recorded)

    @property
    def position(self) -> int:
        """The log position the view is up to date with."""
        return self._position

    def query(self, fn: Callable[[P], R], as_of: datetime | None = None) -> R:
        """`fn` of the view with everything saved so far, or as it was at `as_of`. It
        reads the store, and may fold a long history (the first query after a start):
        called by a command on the event loop, it runs in a worker thread meanwhile."""
        return off_the_loop(self._query, fn, as_of)

    def _query(self, fn: Callable[[P], R], as_of: datetime | None) -> R:
        if as_of is not None:
            return fn(self._as_of(as_of))
        with self._lock:
            self._saves.follow()
            # Everything up to the head is committed: the store commits in log order.
            folded = self._catch_up(self.app.process_recorder.max_notification_id() or 0)
            if folded >= _LARGE_FOLD:
                # A view built from a long history is large and long-lived: keep it out of
                # the collector's full passes, which would otherwise rescan it again and
                # again (hundreds of ms each for a 10,000-CI graph).
                gc.freeze()
            return fn(self._view)

    def _recorded(self, recordings: Sequence[Recording[Any]]) -> None:
        """From the writing thread, in log order: fold this save unless a query is."""
        folded = self._folded
        self._saves.add(
            (r.notification.id, r.domain_event if type(r.domain_event) in folded else None)
            for r in recordings
        )
        if self._lock.acquire(blocking=False):
            try:
                self._fold_pending()
            finally:
                self._lock.release()

    def _catch_up(self, head: int) -> int:
        """Fold everything up to `head`: this process's saves from memory, what lies
        between them (other processes' saves, ids that a rollback used up) from the
        store. Returns how many events were read from the store."""
        read = 0
        for _ in range(GAPS_READ_ONE_BY_ONE):
            self._fold_pending()
            gap_ends = self._saves.gap_after(self._position)
            if self._position >= head or gap_ends is None or gap_ends >= head:
                break
            read += self._read_up_to(gap_ends)
        if self._position < head:
            read += self._read_up_to(head)
            self._fold_pending()
        return read

    def _read_up_to(self, stop: int) -> int:
        read = 0
        for notification, event in self._read_after(self._position, stop):
            self._view.apply(event)
            self._position = notification.id
            read += 1
        self._position = max(self._position, stop)
        return read

    def _fold_pending(self) -> None:
        """Fold this process's saves that follow the view's position, up to the first
        gap (saves by another process, which a query reads from the store)."""
        for position, event in self._saves.take_after(self._position):
            if event is not None:
                self._view.apply(event)
            self._position = position

    def _as_of(self, moment: datetime) -> P:
        view = self.factory()
        for _, event in self._read_after(0):
            # Not `break`: concurrent commands can commit slightly out of timestamp order.
            if event.timestamp <= moment:
                view.apply(event)
        return view

    def _read_after(self, position: int, stop: int | None = None) -> Iterator[tuple[Any, Any]]:
        recorder = self.app.process_recorder
        # The fast decoder: a first query after a restart, and every `as_of`, folds the
        # whole log.
        decoder = self.app.decoder
        while True:
            batch = recorder.select_notifications(
                position, _BATCH, stop, topics=self._topics, inclusive_of_start=False
            )
            for notification in batch:
                yield notification, decoder.to_domain_event(notification)
            if len(batch) < _BATCH:
                return
            position = batch[-1].id
