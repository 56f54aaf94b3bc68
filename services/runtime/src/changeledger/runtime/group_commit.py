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

Each write is announced, in the order of the log, as soon as it is committed: the relay
takes what it publishes from there rather than reading the store again.

A command on the event loop (`runtime.on_loop`) does not wait for the write: it queues
its save and is suspended, and a thread writes the queue, group by group, until it is
empty. Saves from threads and from the loop share the same groups.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    EventStore,
    InterfaceError,
    Notification,
    OperationalError,
    Recording,
    StoredEvent,
)

from changeledger.runtime.on_loop import on_loop, suspend

log = logging.getLogger(__name__)

Write = Callable[[Sequence[StoredEvent]], Sequence[int] | None]
#: Called with a batch's log positions once it is committed.
Committed = Callable[[Sequence[int] | None], None]
#: Called with what a save recorded (`GroupCommittingEventStore.on_recorded`).
Recorded = Callable[[Sequence[Recording[Any]]], None]


@dataclass
class _Queued:
    stored: Sequence[StoredEvent]
    committed: Committed | None = None
    done: bool = False
    positions: Sequence[int] | None = None
    error: BaseException | None = None
    #: A save from the event loop: resolved (from the writing thread) once it is done.
    written: asyncio.Future[None] | None = None


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
    #: Set unless a thread is writing the queue for saves from the loop (`_write_queue`).
    _idle: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._idle.set()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Write something else (a consumer's tracked save) between the groups, so that
        everything this process writes is announced in the order of the log."""
        with self._writer:
            yield

    @property
    def waiting(self) -> int:
        """Saves queued for the next write."""
        with self._queue_lock:
            return len(self._queue)

    def insert(
        self, stored: Sequence[StoredEvent], committed: Committed | None = None
    ) -> Sequence[int] | None:
        """Record `stored` (in the same transaction as whatever else is queued), and return
        their log positions. `committed` is called with them first, by the writing thread
        while it holds the write: so batches are announced in the order of the log.
        Called from a command on the event loop, it suspends that command meanwhile."""
        if on_loop():
            return self._insert_from_loop(stored, committed)
        queued = _Queued(stored, committed)
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

    def _insert_from_loop(
        self, stored: Sequence[StoredEvent], committed: Committed | None
    ) -> Sequence[int] | None:
        loop = asyncio.get_running_loop()
        written: asyncio.Future[None] = loop.create_future()
        queued = _Queued(stored, committed, written=written)
        with self._queue_lock:
            self._queue.append(queued)
            start = self._idle.is_set()
            self._idle.clear()
        if start:
            try:
                loop.run_in_executor(None, self._write_queue)
            except BaseException:  # no thread to write it (the loop is shutting down)
                with self._queue_lock:
                    self._queue.remove(queued)
                    self._idle.set()
                raise
        suspend(written)
        if queued.error is not None:
            raise queued.error
        return queued.positions

    def _write_queue(self) -> None:
        """Write what is queued, group by group, until nothing is."""
        while True:
            with self._writer:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                    if not group:
                        self._idle.set()
                        return
                try:
                    self._write(group)
                except BaseException:  # its saves have the error; the queue must go on
                    log.exception("a group commit failed")

    def wait_written(self, timeout: float) -> bool:
        """Wait until no save from the loop is left to write; False if one still was
        after `timeout` seconds (a store closed under the writing thread can crash)."""
        return self._idle.wait(timeout)

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
                if queued.error is None:
                    _call_committed(queued)
        finally:
            for queued in group:
                if not queued.done:  # never return as saved what was not
                    queued.error, queued.done = RuntimeError("the write was interrupted"), True
            _wake([queued.written for queued in group if queued.written is not None])

    def _written_together(self, group: list[_Queued]) -> bool:
        try:
            positions = self.write([s for queued in group for s in queued.stored])
        except (InterfaceError, OperationalError) as error:
            # The store failed, not a save: and a lost connection may have committed the
            # group, so that each save written again alone would conflict with itself.
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
        for queued in group:
            _call_committed(queued)
        return True

    def _count(self, group: list[_Queued]) -> None:
        self.writes += 1
        self.batches += len(group)


def _wake(written: list[asyncio.Future[None]]) -> None:
    """Resume the commands on the loop whose saves are done: one call into each loop."""
    loops: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for future in written:
        loops.setdefault(future.get_loop(), []).append(future)
    for loop, futures in loops.items():
        with suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, futures)


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a cancelled command no longer waits
            future.set_result(None)


def _call_committed(queued: _Queued) -> None:
    if queued.committed is not None:
        try:
            queued.committed(queued.positions)
        except Exception:  # the batch is committed: its save must not fail now
            log.exception("a listener to committed writes failed")


class GroupCommittingEventStore(EventStore[Any]):
    """An event store whose untracked saves are group-committed (a save with a tracking
    record, from a consumer, is written as it is: its tracking position is its own).

    Listeners (`on_recorded`) get each save's recordings right after its commit, from the
    writing thread, in the order of the log (of what this process wrote). When they may
    not have (a write failed, yet may have committed: its reply was lost; or its positions
    came back out of order), `on_unannounced` listeners are told instead."""

    def __init__(self, store: EventStore[Any]) -> None:
        super().__init__(store.mapper, store.recorder)
        self.group = GroupCommit(self.recorder.insert_events)
        self._recorded: list[Recorded] = []
        self._unannounced: list[Callable[[], None]] = []

    def on_recorded(self, listener: Recorded) -> None:
        self._recorded.append(listener)

    def on_unannounced(self, listener: Callable[[], None]) -> None:
        self._unannounced.append(listener)

    def put(
        self, domain_events: Sequence[DomainEventProtocol[Any]], **kwargs: Any
    ) -> list[Recording[Any]]:
        stored_events = [self.mapper.to_stored_event(event) for event in domain_events]
        if any(value is not None for value in kwargs.values()):
            # Mapped first: only the insert waits for its turn with the groups' writes.
            with self.group.turn(), self._telling_when_unsure():
                positions = self.recorder.insert_events(stored_events, **kwargs)
                return self._committed(domain_events, stored_events, positions)
        recordings: list[Recording[Any]] = []

        def committed(positions: Sequence[int] | None) -> None:
            recordings.extend(self._committed(domain_events, stored_events, positions))

        with self._telling_when_unsure():
            self.group.insert(stored_events, committed)
        return recordings

    @contextmanager
    def _telling_when_unsure(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self._tell_unannounced()
            raise

    def _tell_unannounced(self) -> None:
        for listener in self._unannounced:
            try:
                listener()
            except Exception:
                log.exception("a listener to unannounced writes failed")

    def _committed(
        self,
        domain_events: Sequence[DomainEventProtocol[Any]],
        stored_events: Sequence[StoredEvent],
        positions: Sequence[int] | None,
    ) -> list[Recording[Any]]:
        """The recordings of a save just committed, told to the listeners."""
        if not positions:
            return []
        recordings = _recordings(domain_events, stored_events, positions)
        # Listeners take positions in order; a store that returned them otherwise is
        # left for them to read.
        if not all(a < b for a, b in pairwise(positions)):
            self._tell_unannounced()
            return recordings
        for listener in self._recorded:
            try:
                listener(recordings)
            except Exception:  # committed already: the save stands
                log.exception("a listener to recorded events failed")
                self._tell_unannounced()
        return recordings


def _recordings(
    domain_events: Sequence[DomainEventProtocol[Any]],
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
) -> list[Recording[Any]]:
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
