"""Group commit: the events of commands saved at the same time go to the store in one
transaction.

Both stores serialise writers (SQLite has one writer; eventsourcing's PostgreSQL recorder
locks the notification table), so concurrent commands queue for the write anyway. Here
the command that gets the write takes everything queued by then and records it in one
transaction: one commit (and one disk flush) for many commands, instead of one each.

A command's save still returns only once its own events are committed, with their own
log positions, and fails with its own error: when a grouped write fails (a conflict in one
command, say), each command of the group is written alone, so only the one in conflict
gets the IntegrityError. When the store itself fails the write (locked by another
process beyond its timeout, or down), every command of the group gets that error at once,
rather than each waiting for the store again alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    EventStore,
    Notification,
    OperationalError,
    Recording,
    StoredEvent,
)

Write = Callable[[Sequence[StoredEvent]], Sequence[int] | None]


@dataclass
class _Queued:
    stored: Sequence[StoredEvent]
    done: bool = False
    positions: Sequence[int] | None = None
    error: BaseException | None = None


@dataclass
class GroupCommit:
    """Writes what concurrent callers queued in one call of `write` (one transaction)."""

    write: Write
    #: Writes done, and the callers' batches they carried (for tests and benchmarks).
    writes: int = 0
    batches: int = 0
    _queue: list[_Queued] = field(default_factory=list)
    _queue_lock: threading.Lock = field(default_factory=threading.Lock)
    _writer: threading.Lock = field(default_factory=threading.Lock)

    @property
    def waiting(self) -> int:
        """Saves queued for the next write."""
        with self._queue_lock:
            return len(self._queue)

    def insert(self, stored: Sequence[StoredEvent]) -> Sequence[int] | None:
        """Record `stored` (in the same transaction as whatever else is queued), and return
        their log positions."""
        queued = _Queued(stored)
        with self._queue_lock:
            self._queue.append(queued)
        with self._writer:
            # The previous writer may have taken this batch with its own.
            if not queued.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._write(group)
        if queued.error is not None:
            raise queued.error
        return queued.positions

    def _write(self, group: list[_Queued]) -> None:
        try:
            if len(group) > 1 and self._written_together(group):
                return
            for queued in group:
                try:
                    queued.positions = self.write(queued.stored)
                    self._count([queued])
                except BaseException as error:
                    queued.error = error
                queued.done = True
        finally:
            for queued in group:
                if not queued.done:  # never return as saved what was not
                    queued.error, queued.done = RuntimeError("the write was interrupted"), True

    def _written_together(self, group: list[_Queued]) -> bool:
        try:
            positions = self.write([s for queued in group for s in queued.stored])
        except OperationalError as error:
            for queued in group:
                queued.error, queued.done = error, True
            return True
        except Exception:
            return False
        self._count(group)
        offset = 0
        for queued in group:
            if positions is not None:
                queued.positions = positions[offset : offset + len(queued.stored)]
            offset += len(queued.stored)
            queued.done = True
        return True

    def _count(self, group: list[_Queued]) -> None:
        self.writes += 1
        self.batches += len(group)


class GroupCommittingEventStore(EventStore[Any]):
    """An event store whose untracked saves are group-committed (a save with a tracking
    record, from a consumer, is written as it is: its tracking position is its own)."""

    def __init__(self, store: EventStore[Any]) -> None:
        super().__init__(store.mapper, store.recorder)
        self.group = GroupCommit(self.recorder.insert_events)

    def put(
        self, domain_events: Sequence[DomainEventProtocol[Any]], **kwargs: Any
    ) -> list[Recording[Any]]:
        if any(value is not None for value in kwargs.values()):
            return super().put(domain_events, **kwargs)
        stored_events = [self.mapper.to_stored_event(event) for event in domain_events]
        positions = self.group.insert(stored_events)
        if not positions:
            return []
        return [
            Recording(
                event,
                Notification(
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                    id=position,
                ),
            )
            for event, s, position in zip(domain_events, stored_events, positions, strict=True)
        ]
