"""Consumers: from other services' topics into this service's policies, exactly once.

A FastStream subscriber per topic (consumer group = the service) hands each record to a
worker. The worker takes whatever has queued up and applies it in as few store
transactions as it can: one per run of records from the same partition, holding the
policies' new events, a receipt of each envelope (keyed by its id) and
`Tracking("<topic>:<partition>", last offset)`. A redelivered record hits the tracking
record and a republished envelope hits its receipt, so neither changes anything.

A record that fails validation, or that its policy refuses, goes to `<topic>.dlq` with
the error in its headers before its offset is tracked; the consumer carries on. A store
that is down is waited for, never skipped. Kafka offsets are committed in the background
after the store has committed, and on (re)assignment each partition resumes after the
offset its store has tracked, so the store, not Kafka, is the record of what was handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, Generic, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from eventsourcing.domain import event
from eventsourcing.persistence import (
    ConnectionPoolClosedError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    Tracking,
)
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage
from pydantic import ValidationError

from changeledger.contracts import Envelope, IntegrationEvent, UnknownEventType, dlq_of, owner_of
from changeledger.runtime.domain import Actor, Aggregate, DomainError, Provenance, acting
from changeledger.runtime.retry import until_it_works
from changeledger.runtime.store import ServiceApplication
from changeledger.runtime.threads import WorkerThreads

log = logging.getLogger(__name__)

RECEIPT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:changeledger:receipt")
_STOP = object()

AppT = TypeVar("AppT", bound=ServiceApplication)
Handler = Callable[[AppT, Any, Envelope], Sequence[Aggregate]]

#: The store is unavailable (or closing): wait and try again, never dead-letter.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    InternalError,
    ConnectionPoolClosedError,
    ConnectionError,
    TimeoutError,
)


class ReceivedMessage(Aggregate):
    """The receipt of one integration event, recorded with the effects it caused."""

    class Received(Aggregate.Created):
        envelope_id: UUID
        event_type: str
        source: str
        topic: str
        partition: int
        offset: int
        sequence: int
        policy: str

    @staticmethod
    def create_id(envelope_id: UUID) -> UUID:
        return receipt_id(envelope_id)

    @event(Received)
    def __init__(
        self,
        envelope_id: UUID,
        event_type: str,
        source: str,
        topic: str,
        partition: int,
        offset: int,
        sequence: int,
        policy: str,
    ) -> None:
        self.envelope_id = envelope_id
        self.event_type = event_type
        self.source = source
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.sequence = sequence
        self.policy = policy


def receipt_id(envelope_id: UUID) -> UUID:
    return uuid5(RECEIPT_NAMESPACE, str(envelope_id))


@dataclass(frozen=True)
class Route(Generic[AppT]):
    model: type[IntegrationEvent]
    handler: Handler[AppT]


class Policies(Generic[AppT]):
    """A service's reactions to other services' events, by event type and version."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, int], Route[AppT]] = {}

    def on(self, model: type[IntegrationEvent]) -> Callable[[Handler[AppT]], Handler[AppT]]:
        def register(handler: Handler[AppT]) -> Handler[AppT]:
            self._routes[(model.event_type, model.version)] = Route(model, handler)
            return handler

        return register

    @property
    def topics(self) -> set[str]:
        return {route.model.topic() for route in self._routes.values()}

    def models(self, topic: str) -> list[type[IntegrationEvent]]:
        """The event models this service reacts to on `topic`."""
        return [r.model for r in self._routes.values() if r.model.topic() == topic]

    def route(self, envelope: Envelope) -> Route[AppT] | None:
        """The route for this envelope; None when the service does not react to its type."""
        route = self._routes.get((envelope.type, envelope.dataversion))
        if route is None and any(t == envelope.type for t, _ in self._routes):
            raise UnknownEventType(f"no policy handles {envelope.type} v{envelope.dataversion}")
        return route


@dataclass
class Item(Generic[AppT]):
    """One record, parsed: a routed event, an event to ignore, or poison."""

    record: Any
    envelope: Envelope | None = None
    route: Route[AppT] | None = None
    event: IntegrationEvent | None = None
    poison: BaseException | None = None

    @property
    def tracking(self) -> Tracking:
        return Tracking(f"{self.record.topic}:{self.record.partition}", self.record.offset)


@dataclass
class Refusal:
    """Where a run of records stopped: the item that cannot be handled, and why."""

    item: Item[Any]
    error: BaseException


@dataclass
class Counts:
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    batches: int = 0


class Consumer(Generic[AppT]):
    def __init__(
        self,
        app: AppT,
        service: str,
        policies: Policies[AppT],
        topic_prefix: str = "",
        max_batch: int = 500,
        threads: WorkerThreads | None = None,
    ) -> None:
        self.threads = threads or WorkerThreads()
        self.app = app
        self.service = service
        self.broker: KafkaBroker | None = None
        self.policies = policies
        self.topic_prefix = topic_prefix
        self.group_id = topic_prefix + service
        self.max_batch = max_batch
        self.actor = Actor(sub=f"service:{service}", roles=("service",))
        self.counts = Counts()
        self.last_error: str | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=10 * max_batch)
        self._subscribers: dict[str, Any] = {}
        self._handled: dict[str, dict[TopicPartition, int]] = {}
        #: Each partition's tracked offset as far as this process knows: asked of the store
        #: after an assignment, then moved by this process's saves. Behind the store (after
        #: another replica's work) it costs a failed save and the one-by-one pass, and a
        #: record is asked about before it is dead-lettered.
        self._tracked: dict[str, int | None] = {}
        self._commit_wanted = asyncio.Event()
        self._stopping = False
        self._busy: asyncio.Task[None] | None = None

    @property
    def topics(self) -> list[str]:
        return sorted(self.topic_prefix + t for t in self.policies.topics)

    @property
    def dlq_topics(self) -> list[str]:
        return [dlq_of(t) for t in self.topics]

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def status(self) -> dict[str, Any]:
        return {
            "topics": self.topics,
            **asdict(self.counts),
            "backlog": self.backlog,
            "last_error": self.last_error,
        }

    def attach(self, broker: KafkaBroker) -> None:
        """Register one subscriber per topic on a broker that has not started yet."""
        self.broker = broker
        self._subscribers = {}
        for topic in self.topics:
            listener = ResumeFromTracking(self.app, self.threads, self._tracked)
            subscriber = self.broker.subscriber(
                topic,
                group_id=self.group_id,
                auto_offset_reset="earliest",
                ack_policy=AckPolicy.MANUAL,
                listener=listener,
                session_timeout_ms=10_000,
                heartbeat_interval_ms=1_000,
                title=f"{self.service} <- {topic}",
            )
            listener.subscriber = subscriber
            self._subscribers[topic] = subscriber
            self._handled.setdefault(topic, {})

            subscriber(self._enqueue, decoder=_the_record)

    async def _enqueue(self, record: ConsumerRecord[bytes, bytes]) -> None:
        await self._queue.put(record)

    async def run(self) -> None:
        """Apply queued records in batches, and commit Kafka offsets behind them."""
        committer = asyncio.create_task(self._commit_offsets())
        try:
            while not self._stopping:
                batch = [await self._queue.get()]
                while len(batch) < self.max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                records = [record for record in batch if record is not _STOP]
                if records:
                    self._busy = asyncio.create_task(
                        self.process([self._parse(record) for record in records])
                    )
                    # Shielded: stopping lets the batch in hand finish its transaction.
                    await asyncio.shield(self._busy)
        finally:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer

    async def stop(self, timeout: float = 10.0) -> None:
        """Take no new batch, and give the one in hand time to finish."""
        self._stopping = True
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_STOP)
        if self._busy is not None and not self._busy.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._busy), timeout)

    def _report(self, error: str) -> None:
        self.last_error = error

    async def process(self, items: list[Item[AppT]]) -> None:
        self.counts.batches += 1
        while items:
            async for attempt in until_it_works(
                f"{self.service}: applying a batch", on=INFRASTRUCTURE_ERRORS, report=self._report
            ):
                with attempt:
                    refusal = await self.threads.run(self._apply_until_refusal, items)
            self.last_error = None
            if refusal is None:
                self._handled_up_to(items)
                return
            at = items.index(refusal.item)
            await self._dead_letter(refusal.item, refusal.error)
            self._handled_up_to(items[: at + 1])
            items = items[at + 1 :]

    # Runs in a worker thread.

    def _apply_until_refusal(self, items: list[Item[AppT]]) -> Refusal | None:
        """Apply items in order, one transaction per run of one partition, until one of
        them cannot be handled; everything before it is saved."""
        for _, group in groupby(items, key=lambda i: (i.record.topic, i.record.partition)):
            run = list(group)
            tracked = self._tracked_offset(run[0].tracking.application_name)
            fresh = [i for i in run if tracked is None or i.record.offset > tracked]
            self.counts.duplicates += len(run) - len(fresh)  # redelivered: handled before
            poison_at = next((n for n, i in enumerate(fresh) if i.poison), None)
            clean = fresh if poison_at is None else fresh[:poison_at]
            if clean and not self._apply_run(clean):
                for item in clean:
                    try:
                        self._apply_one(item)
                    except DomainError as refused:
                        return Refusal(item, refused)
                    except INFRASTRUCTURE_ERRORS:
                        raise
                    except Exception as error:
                        log.exception("%s: a policy failed", self.service)
                        return Refusal(item, error)
            if poison_at is not None:
                poison = fresh[poison_at]
                assert poison.poison is not None
                return Refusal(poison, poison.poison)
        return None

    def _tracked_offset(self, name: str) -> int | None:
        if name not in self._tracked:
            self._tracked[name] = self.app.process_recorder.max_tracking_id(name)
        return self._tracked[name]

    def _tracked_now(self, tracking: Tracking) -> None:
        known = self._tracked.get(tracking.application_name)
        if known is None or tracking.notification_id > known:
            self._tracked[tracking.application_name] = tracking.notification_id

    def _apply_run(self, fresh: list[Item[AppT]]) -> bool:
        """A partition's run of new items in one transaction; False to fall back to one
        by one."""
        last = max((i.tracking for i in fresh), key=lambda t: t.notification_id)
        applied = duplicates = ignored = 0
        receipts: dict[UUID, ReceivedMessage] = {}
        effects: dict[UUID, Aggregate] = {}
        with self.app.unit_of_work():
            for item in fresh:
                if item.route is None:
                    ignored += 1
                    continue
                assert item.envelope is not None
                # A receipt already in the store makes the save fail, and the one-by-one
                # pass then sorts it out: cheaper than looking for each one first.
                receipt = receipt_id(item.envelope.id)
                if receipt in receipts:
                    duplicates += 1
                    continue
                try:
                    changed, received = self._run_policy(item)
                except INFRASTRUCTURE_ERRORS:
                    raise
                except Exception:
                    return False  # the one-by-one pass finds and reports the culprit
                self.app.enlist(*changed)
                effects |= {aggregate.id: aggregate for aggregate in changed}
                receipts[receipt] = received
                applied += 1
            try:
                self.app.save_tracked(*effects.values(), *receipts.values(), tracking=last)
            except IntegrityError:
                # A duplicate or a concurrent change: look at each one, and ask the store
                # where the partition stands next time.
                self._tracked.pop(last.application_name, None)
                return False
        self._tracked_now(last)
        self.counts.applied += applied
        self.counts.duplicates += duplicates
        self.counts.ignored += ignored
        return True

    def _apply_one(self, item: Item[AppT]) -> None:
        """One item in its own transaction; raises DomainError when its policy refuses."""
        recorder = self.app.process_recorder
        tracking = item.tracking
        for _ in range(10):
            if recorder.has_tracking_id(tracking.application_name, tracking.notification_id):
                self.counts.duplicates += 1
                return
            if item.route is None:
                self.counts.ignored += 1
                return
            assert item.envelope is not None
            if self.app.contains(receipt_id(item.envelope.id)):
                self._track_only(tracking)
                self.counts.duplicates += 1
                return
            changed, received = self._run_policy(item)
            try:
                self.app.save_tracked(*changed, received, tracking=tracking)
            except IntegrityError:
                # Redelivered or republished meanwhile, or an aggregate it changed was
                # changed by a command at the same moment: look again and retry.
                continue
            self._tracked_now(tracking)
            self.counts.applied += 1
            return
        raise OperationalError("the policy kept conflicting with concurrent commands")

    def _run_policy(self, item: Item[AppT]) -> tuple[Sequence[Aggregate], ReceivedMessage]:
        assert item.route is not None
        assert item.envelope is not None
        envelope, handler = item.envelope, item.route.handler
        provenance = Provenance(
            actor=self.actor,
            correlation_id=envelope.correlationid,
            command=f"policy:{handler.__name__}",
            causation_id=str(envelope.id),
        )
        with acting(provenance):
            changed = handler(self.app, item.event, envelope)
            received = ReceivedMessage(
                envelope_id=envelope.id,
                event_type=envelope.type,
                source=envelope.source,
                topic=item.record.topic,
                partition=item.record.partition,
                offset=item.record.offset,
                sequence=envelope.sequence,
                policy=handler.__name__,
            )
        return changed, received

    def _track_only(self, tracking: Tracking) -> None:
        with contextlib.suppress(IntegrityError):  # already tracked
            self.app.save_tracked(tracking=tracking)
            self._tracked_now(tracking)

    # Back on the event loop.

    def _parse(self, record: Any) -> Item[AppT]:
        item: Item[AppT] = Item(record)
        try:
            envelope = Envelope.model_validate_json(record.value)
            expected_source = owner_of(record.topic.removeprefix(self.topic_prefix))
            if envelope.source != expected_source:
                raise ValueError(
                    f"envelope source {envelope.source!r} does not own topic {record.topic}"
                )
            item.envelope = envelope
            item.route = self.policies.route(envelope)
            if item.route is not None:
                item.event = item.route.model.model_validate(envelope.data)
        except (ValidationError, UnknownEventType, ValueError) as error:
            item.poison = error
        return item

    async def _dead_letter(self, item: Item[AppT], error: BaseException) -> None:
        if await self._tracked_in_store(item.tracking):
            # Handled (dead-lettered, say) by another replica, which held the partition
            # since this process last knew where it stood: ask the store again next time.
            self._tracked.pop(item.tracking.application_name, None)
            self.counts.duplicates += 1
            return
        record = item.record
        headers = {k: (v or b"").decode(errors="replace") for k, v in (record.headers or ())}
        headers |= {
            "x-error-type": type(error).__name__,
            "x-error-message": str(error)[:2000],
            "x-original-topic": record.topic,
            "x-original-partition": str(record.partition),
            "x-original-offset": str(record.offset),
            "x-consumer-group": self.group_id,
            "x-failed-at": datetime.now(UTC).isoformat(),
        }
        async for attempt in until_it_works(f"{self.service}: dead-lettering"):
            with attempt:
                if self.broker is None:
                    raise ConnectionError("not connected to Kafka")
                await self.broker.publish(
                    record.value, dlq_of(record.topic), key=record.key, headers=headers
                )
        self.counts.dead_lettered += 1
        self.last_error = f"dead-lettered {record.topic}@{record.offset}: {error}"
        log.error("%s: %s", self.service, self.last_error)
        async for attempt in until_it_works(
            f"{self.service}: tracking a dead letter", on=INFRASTRUCTURE_ERRORS
        ):
            with attempt:
                await self.threads.run(self._track_only, item.tracking)

    async def _tracked_in_store(self, tracking: Tracking) -> bool:
        asking = until_it_works(
            f"{self.service}: asking where a partition stands", on=INFRASTRUCTURE_ERRORS
        )
        tracked: Any = await asking(
            self.threads.run,
            self.app.process_recorder.has_tracking_id,
            tracking.application_name,
            tracking.notification_id,
        )
        return bool(tracked)

    def _handled_up_to(self, items: list[Item[AppT]]) -> None:
        for item in items:
            record = item.record
            partition = TopicPartition(record.topic, record.partition)
            self._handled.setdefault(record.topic, {})[partition] = record.offset + 1
        self._commit_wanted.set()

    async def _commit_offsets(self, interval: float = 0.2) -> None:
        """Commit handled offsets to Kafka, at most every `interval` seconds. Losing one is
        harmless: the store's tracking decides where a partition resumes."""
        while True:
            await self._commit_wanted.wait()
            self._commit_wanted.clear()
            for topic, offsets in self._handled.items():
                consumer = getattr(self._subscribers.get(topic), "consumer", None)
                if consumer is None:
                    continue
                assigned = consumer.assignment()
                mine = {tp: offset for tp, offset in offsets.items() if tp in assigned}
                if mine:
                    try:
                        await consumer.commit(mine)
                    except Exception as error:
                        log.info("%s: offset commit deferred (%s)", self.service, error)
            await asyncio.sleep(interval)


class ResumeFromTracking(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, continue each partition after the offset the store has tracked.

    Records still queued for a revoked partition are left to be applied: they follow on
    from what the store has tracked, in order. Dropping them would leave a gap when a
    later record of that partition, already handed to the consume loop, is applied, and
    the tracked offset, a maximum, would then pass over the gap for good."""

    def __init__(
        self,
        app: ServiceApplication,
        threads: WorkerThreads,
        tracked: dict[str, int | None] | None = None,
    ) -> None:
        self.app = app
        self.threads = threads
        #: The consumer's idea of each partition's tracked offset, set here from the store.
        self.tracked = tracked if tracked is not None else {}
        self.subscriber: Any = None

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = getattr(self.subscriber, "consumer", None)
        if consumer is None or not assigned:
            return
        # Paused before the first await: otherwise the fetcher starts from Kafka's
        # committed offsets, which lag the store's, while the store is being asked.
        consumer.pause(*assigned)
        try:
            recorder = self.app.process_recorder
            for tp in assigned:
                name = f"{tp.topic}:{tp.partition}"
                tracked = await self.threads.run(recorder.max_tracking_id, name)
                self.tracked[name] = tracked
                if tracked is not None:
                    consumer.seek(tp, tracked + 1)
        finally:
            consumer.resume(*assigned)


async def _the_record(message: KafkaMessage) -> Any:
    """FastStream's decoding of a message: the record itself, as Kafka delivered it.
    Validating the envelope is the consumer's job, with its own dead-lettering."""
    return message.raw_message
