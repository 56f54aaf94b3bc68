"""Read models built from a service's own store: listings, calendars, reports.

A projection is plain code that folds domain events into a view:

    class ReleaseList(Projection):
        topics = (Release.Planned, Release.Scheduled)
        def __init__(self) -> None:
            self.releases: dict[UUID, Summary] = {}
        def apply(self, event: Any) -> None:
            ...

`LiveProjection` keeps one up to date with the store. Each read first takes in whatever
was saved since the last read (one indexed query), so a query always sees the commands
that were answered before it. `as_of(t)` folds the log up to `t` into a fresh copy, for
time travel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from eventsourcing.utils import get_topic

from changeledger.runtime.store import ServiceApplication


class Projection:
    #: The event classes it folds; only these are read from the store.
    topics: ClassVar[tuple[type, ...]] = ()

    def apply(self, event: Any) -> None:
        raise NotImplementedError


P = TypeVar("P", bound=Projection)

_BATCH = 1000


class LiveProjection(Generic[P]):
    def __init__(self, app: ServiceApplication, factory: Callable[[], P]) -> None:
        self.app = app
        self.factory = factory
        self._view = factory()
        self._position = 0
        self._lock = threading.Lock()
        self._topics = [get_topic(cls) for cls in self._view.topics]

    def current(self) -> P:
        """The view with everything saved so far (call from a worker thread)."""
        with self._lock:
            for notification, event in self._read_after(self._position):
                self._view.apply(event)
                self._position = notification.id
            return self._view

    def as_of(self, moment: datetime) -> P:
        """A fresh view of the store as it was at `moment`."""
        view = self.factory()
        for _, event in self._read_after(0):
            # Not `break`: concurrent commands can commit slightly out of timestamp order.
            if event.timestamp <= moment:
                view.apply(event)
        return view

    def _read_after(self, position: int) -> Iterator[tuple[Any, Any]]:
        recorder = self.app.process_recorder
        while True:
            batch = recorder.select_notifications(
                position, _BATCH, topics=self._topics, inclusive_of_start=False
            )
            for notification in batch:
                yield notification, self.app.mapper.to_domain_event(notification)
            if len(batch) < _BATCH:
                return
            position = batch[-1].id
