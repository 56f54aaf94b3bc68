"""The outbox relay: from a service's notification log into its Kafka topic.

The relay follows the notification log from its tracked position. It maps each domain
event to its contract event, publishes the batch (key = aggregate id, acks=all, idempotent
producer), and records its new position only after the broker has acknowledged every
message. A crash between the acknowledgement and the tracking write republishes the same
envelopes (same ids), which consumers recognise and ignore.

What this process saves reaches the relay as it is committed (`recorded`), so the events
that follow its position without a gap are published from memory; anything else (saves
by other processes, a gap, a restart) is read from the notification log, which stays the
one source of truth. The log is read beyond what memory holds only when there may be
something there: at the start, when told of a save elsewhere (`wake`), at each idle
poll, and when memory was full.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import Recording, Tracking

from changeledger.contracts import Actor as ContractActor
from changeledger.contracts import Envelope, IntegrationEvent
from changeledger.runtime.domain import Aggregate, Provenance
from changeledger.runtime.leadership import Leadership
from changeledger.runtime.recent import GAPS_READ_ONE_BY_ONE, RecentSaves
from changeledger.runtime.retry import until_it_works
from changeledger.runtime.store import ServiceApplication
from changeledger.runtime.threads import WorkerThreads
from changeledger.runtime.wakeups import SocketWakeups

log = logging.getLogger(__name__)

ENVELOPE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:changeledger:envelope")

E = TypeVar("E", bound=Aggregate.Event)
Translation = Callable[[Any], IntegrationEvent | None]


class Translations:
    """How a service's domain events become its published contract events.

    Domain events without a translation stay internal and are never published.
    """

    def __init__(self) -> None:
        self._by_event: dict[type, Translation] = {}

    def add(self, event_class: type[E], translate: Callable[[E], IntegrationEvent | None]) -> None:
        self._by_event[event_class] = translate

    def __call__(self, domain_event: Any) -> IntegrationEvent | None:
        translate = self._by_event.get(type(domain_event))
        return translate(domain_event) if translate else None


def envelope_for(
    source: str, notification_id: int, domain_event: Any, contract: IntegrationEvent
) -> Envelope:
    provenance: Provenance = domain_event.provenance
    return Envelope(
        # The same stored event always gets the same envelope id, however often it is sent.
        id=envelope_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        type=contract.event_type,
        dataversion=contract.version,
        subject=str(domain_event.originator_id),
        time=domain_event.timestamp,
        actor=ContractActor(sub=provenance.actor.sub, roles=provenance.actor.roles),
        correlationid=provenance.correlation_id,
        causationid=provenance.causation_id,
        sequence=notification_id,
        data=contract.model_dump(mode="json"),
    )


def envelope_id(source: str, aggregate_id: UUID, version: int) -> UUID:
    return uuid5(ENVELOPE_NAMESPACE, f"{source}/{aggregate_id}/{version}")


@dataclass(frozen=True)
class Outgoing:
    key: bytes
    value: bytes
    #: As Kafka carries them: names, and values in UTF-8.
    headers: list[tuple[str, bytes]]


class Publisher(Protocol):
    async def send(self, topic: str, message: Outgoing) -> Awaitable[Any]:
        """Hand a message to the producer; the returned awaitable resolves on the ack."""


class Relay:
    #: Events saved here and not yet published that are kept in memory, at most (beyond
    #: it, they are read from the store when their turn comes).
    recent_limit = 10_000

    def __init__(
        self,
        app: ServiceApplication,
        source: str,
        topic: str,
        translate: Callable[[Any], IntegrationEvent | None],
        publisher: Publisher,
        leadership: Leadership,
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        threads: WorkerThreads | None = None,
        position_interval_seconds: float = 0.5,
        saves_elsewhere: SocketWakeups | None = None,
    ) -> None:
        self.threads = threads or WorkerThreads()
        self.app = app
        self.source = source
        self.topic = topic
        self.translate = translate
        self.publisher = publisher
        self.leadership = leadership
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.position_interval_seconds = position_interval_seconds
        #: How saves by other processes reach this relay while it leads, if they can.
        self.saves_elsewhere = saves_elsewhere
        self.tracking_name = f"relay:{topic}"
        self.is_leader = False
        #: Recorded in the store (`position`) and acknowledged by the broker (`acked`).
        self.position: int | None = None
        self.acked: int | None = None
        self._acked_moved = asyncio.Event()
        self.published = 0
        #: Events the relay read back from the log, not having them from a save here, and
        #: the reads (queries) it took.
        self.read_from_store = 0
        self.reads = 0
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        #: The log may hold saves that memory does not: read on to its end.
        self._look_in_store = True
        #: Events committed by this process while it leads.
        self._recent: RecentSaves[Any] = RecentSaves(self.recent_limit)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.restart_delay = 5.0
        #: Test hook: runs after the broker's ack and before the tracking write.
        self.after_ack: Callable[[int], None] | None = None
        app.on_recorded(self.recorded)
        app.on_unannounced(self.wake)

    def recorded(self, recordings: Sequence[Recording[UUID]]) -> None:
        """Thread-safe: called with what each save in this process committed."""
        if not self._recent.add((r.notification.id, r.domain_event) for r in recordings):
            self._look_in_store = True
        self._signal()

    def wake(self) -> None:
        """Thread-safe: there may be new events in the log that memory does not hold
        (saved by another process, or here without being announced)."""
        self._look_in_store = True
        self._signal()

    def _signal(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Relay until cancelled; waits for leadership first."""
        self._loop = asyncio.get_running_loop()
        while True:
            await self.leadership.acquire()
            self.is_leader = True
            self._recent.follow()
            log.info("%s relay is the leader for %s", self.source, self.topic)
            try:
                if self.saves_elsewhere is None:
                    await self._follow()
                else:
                    async with self.saves_elsewhere.listening(self.wake):
                        await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # A fault here (say, a translation bug) must not kill the relay for good:
                # it reports, waits and starts again from its tracked position.
                self.last_error = f"{type(error).__name__}: {error}"
                log.exception("%s relay failed; restarting", self.source)
                await asyncio.sleep(self.restart_delay)
            finally:
                self.is_leader = False
                self._recent.stop()
                await self.leadership.release()

    async def _follow(self) -> None:
        recorder = self.app.process_recorder
        self.position = await self.threads.run(recorder.max_tracking_id, self.tracking_name)
        self.acked = self.position
        self._look_in_store = True  # whatever was saved while no relay led
        tracker = asyncio.create_task(self._track_acked())
        try:
            while await self.leadership.still_held():
                self._wake.clear()
                # In a store thread: a burst's envelopes would hold up the event loop.
                last, messages = await self.threads.run(self._next_batch, self.acked or 0)
                if last is None:
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.idle_poll_seconds)
                    except TimeoutError:
                        self._look_in_store = True  # saves that no one announced
                    continue
                await self._publish_with_retry(messages)
                if self.after_ack is not None:
                    self.after_ack(last)
                self.acked = last
                self._acked_moved.set()
            log.warning("%s relay lost its leadership", self.source)
        finally:
            tracker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tracker
            with contextlib.suppress(Exception):
                await self._record_position()

    async def _track_acked(self) -> None:
        """Record the acknowledged position in the store, off the publishing path and at
        most once per interval: each write is a commit that a command would otherwise
        queue behind, and a position recorded late only means a republish."""
        while True:
            await self._acked_moved.wait()
            self._acked_moved.clear()
            async for attempt in until_it_works(f"{self.source}: recording the relay position"):
                with attempt:
                    await self._record_position()
            await asyncio.sleep(self.position_interval_seconds)

    async def _record_position(self) -> None:
        acked = self.acked
        if acked is not None and acked != self.position:
            tracking = Tracking(self.tracking_name, acked)
            await self.threads.run(self._insert_tracking, tracking)
            self.position = acked

    def _insert_tracking(self, tracking: Tracking) -> None:
        # Between the group commit's writes: a writer waiting in SQLite's pool of
        # connections holds up every read, commands' on the event loop included.
        with self.app.group_commit.turn():
            self.app.process_recorder.insert_tracking(tracking)

    def _next_batch(self, after: int) -> tuple[int | None, list[Outgoing]]:
        """The messages of the events after position `after` (at most a batch), and the
        last position (None: nothing new). Those saved here come from memory; only what
        lies between them (other processes' saves, ids a rolled-back write used up) is
        read from the store: with two replicas writing at once, their share of the log
        rather than all of it from the first gap on."""
        events: list[tuple[int, Any]] = []
        last, gaps = after, 0
        while (room := self.batch_size - len(events)) > 0:
            taken = self._recent.take_after(last, room)
            if taken:
                events += taken
                last = taken[-1][0]
                continue
            gap_ends = self._recent.gap_after(last)
            if gap_ends == last:
                continue  # the save that follows was announced just now
            if gap_ends is None and (events or not self._look_in_store):
                break  # what follows is for the next batch, or there is nothing
            if gap_ends is None or gaps == GAPS_READ_ONE_BY_ONE:
                # Nothing saved here to follow, or too many gaps: the rest in one read.
                # Cleared before it: a save announced meanwhile is read next time.
                self._look_in_store = False
                rest = self._read(last, room)
                events += rest
                if len(rest) == room:
                    self._look_in_store = True  # the log holds more than a batch
                break
            gaps += 1
            gap = self._read(last, room, stop=gap_ends)
            events += gap
            if len(gap) == room:
                break
            last = gap_ends  # the gap is read whole: go on from this process's save
        if not events:
            return None, []
        return events[-1][0], [m for m in (self._outgoing(*e) for e in events) if m is not None]

    def _read(self, after: int, most: int, stop: int | None = None) -> list[tuple[int, Any]]:
        batch = self.app.process_recorder.select_notifications(
            after, most, stop, inclusive_of_start=False
        )
        self.reads += 1
        self.read_from_store += len(batch)
        decode = self.app.decoder.to_domain_event
        return [(n.id, decode(n)) for n in batch]

    async def _publish_with_retry(self, messages: Sequence[Outgoing]) -> None:
        """Publish the whole batch until every message is acknowledged (broker down,
        timeouts: it is sent again, and consumers ignore what they already have)."""
        async for attempt in until_it_works(f"publishing to {self.topic}", report=self._report):
            with attempt:
                acks = [await self.publisher.send(self.topic, m) for m in messages]
                await asyncio.gather(*acks)
        self.published += len(messages)
        self.last_error = None

    def _report(self, error: str) -> None:
        self.last_error = error

    def _outgoing(self, position: int, domain_event: Any) -> Outgoing | None:
        contract = self.translate(domain_event)
        if contract is None:
            return None
        envelope = envelope_for(self.source, position, domain_event, contract)
        return Outgoing(
            key=envelope.subject.encode(),
            value=envelope.model_dump_json().encode(),
            headers=[
                ("content-type", b"application/cloudevents+json"),
                ("ce_id", str(envelope.id).encode()),
                ("ce_type", envelope.type.encode()),
                ("ce_source", envelope.source.encode()),
            ],
        )
