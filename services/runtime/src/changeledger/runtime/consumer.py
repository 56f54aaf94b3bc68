"""Consumers: from other services' topics into this service's policies, exactly once.

Each message is handled in one store transaction that records the policy's new events, a
receipt of the envelope (keyed by its id) and `Tracking("<topic>:<partition>", offset)`.
A redelivered message hits the tracking record; a republished one hits the receipt; both
change nothing. The Kafka offset is committed only after that transaction. A message that
fails validation, or that its policy refuses, goes to `<topic>.dlq` with the error in its
headers, and the consumer carries on. A store that is down is waited for, not skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from aiokafka import ConsumerRebalanceListener, TopicPartition
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError, Tracking
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.annotations import KafkaMessage as KafkaMessageContext
from pydantic import ValidationError

from changeledger.contracts import Envelope, IntegrationEvent, UnknownEventType, dlq_of, owner_of
from changeledger.runtime.domain import Actor, Aggregate, DomainError, Provenance, acting
from changeledger.runtime.store import ServiceApplication

log = logging.getLogger(__name__)

RECEIPT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:changeledger:receipt")

AppT = TypeVar("AppT", bound=ServiceApplication)
Handler = Callable[[AppT, Any, Envelope], Sequence[Aggregate]]


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
    def create_id(envelope_id: UUID) -> UUID:  # type: ignore[override]
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

    def route(self, envelope: Envelope) -> Route[AppT] | None:
        """The route for this envelope; None when the service does not react to its type."""
        route = self._routes.get((envelope.type, envelope.dataversion))
        if route is None and any(t == envelope.type for t, _ in self._routes):
            raise UnknownEventType(f"no policy handles {envelope.type} v{envelope.dataversion}")
        return route


class PoisonMessage(Exception):
    """The message can never be handled: it goes to the dead-letter topic."""


INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    ConnectionError,
    TimeoutError,
)


class Consumer(Generic[AppT]):
    def __init__(
        self,
        app: AppT,
        service: str,
        broker: KafkaBroker,
        policies: Policies[AppT],
        topic_prefix: str = "",
    ) -> None:
        self.app = app
        self.service = service
        self.broker = broker
        self.policies = policies
        self.topic_prefix = topic_prefix
        self.group_id = topic_prefix + service
        self.actor = Actor(sub=f"service:{service}", roles=("service",))
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.last_error: str | None = None

    @property
    def topics(self) -> list[str]:
        return sorted(self.topic_prefix + t for t in self.policies.topics)

    @property
    def dlq_topics(self) -> list[str]:
        return [dlq_of(t) for t in self.topics]

    def subscribe(self) -> None:
        """Register one subscriber per topic on the broker (before it starts)."""
        for topic in self.topics:
            listener = ResumeFromTracking(self.app)
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

            # The message comes through the context, so FastStream decodes nothing itself:
            # validating the envelope is this consumer's job, with its own dead-lettering.
            async def on_message(message: KafkaMessageContext) -> None:
                await self.handle(message.body, message)

            subscriber(on_message)

    async def handle(self, body: bytes, message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)
        tracking = Tracking(f"{record.topic}:{record.partition}", record.offset)
        try:
            outcome = await self._handle(body, record, tracking)
        except PoisonMessage as poison:
            await self._dead_letter(record, poison.__cause__ or poison, tracking)
            outcome = "dead-lettered"
        log.debug("%s %s@%s: %s", self.service, record.topic, record.offset, outcome)
        await message.ack()

    async def _handle(self, body: bytes, record: Any, tracking: Tracking) -> str:
        try:
            envelope = Envelope.model_validate_json(body)
            expected_source = owner_of(record.topic.removeprefix(self.topic_prefix))
            if envelope.source != expected_source:
                raise ValueError(
                    f"envelope source {envelope.source!r} does not own topic {record.topic}"
                )
            route = self.policies.route(envelope)
            if route is None:
                return "ignored"
            event = route.model.model_validate(envelope.data)
        except (ValidationError, UnknownEventType, ValueError) as error:
            raise PoisonMessage(str(error)) from error

        delay = 0.1
        while True:
            try:
                outcome = await asyncio.to_thread(self._apply, route, event, envelope, tracking)
            except DomainError as refused:
                raise PoisonMessage(str(refused)) from refused
            except INFRASTRUCTURE_ERRORS as error:
                # The store is unavailable: keep the message and try again.
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("%s: store unavailable (%s); retrying", self.service, self.last_error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            except PersistenceError as error:
                raise PoisonMessage(str(error)) from error
            except Exception as error:
                log.exception("%s: policy %s failed", self.service, route.handler.__name__)
                raise PoisonMessage(f"{type(error).__name__}: {error}") from error
            self.last_error = None
            if outcome == "applied":
                self.applied += 1
            else:
                self.duplicates += 1
            return outcome

    def _apply(
        self, route: Route[AppT], event: IntegrationEvent, envelope: Envelope, tracking: Tracking
    ) -> str:
        recorder = self.app.process_recorder
        name, offset = tracking.application_name, tracking.notification_id
        receipt = receipt_id(envelope.id)
        provenance = Provenance(
            actor=self.actor,
            correlation_id=envelope.correlationid,
            command=f"policy:{route.handler.__name__}",
            causation_id=str(envelope.id),
        )
        for _ in range(10):
            if recorder.has_tracking_id(name, offset):
                return "redelivered"
            if self.app.contains(receipt):
                self._track_only(tracking)
                return "republished"
            with acting(provenance):
                effects = route.handler(self.app, event, envelope)
                received = ReceivedMessage(
                    envelope_id=envelope.id,
                    event_type=envelope.type,
                    source=envelope.source,
                    topic=tracking.application_name.rsplit(":", 1)[0],
                    partition=int(name.rsplit(":", 1)[1]),
                    offset=offset,
                    sequence=envelope.sequence,
                    policy=route.handler.__name__,
                )
            try:
                self.app.save_tracked(*effects, received, tracking=tracking)
                return "applied"
            except IntegrityError:
                # Redelivered or republished meanwhile, or an aggregate it changed was
                # changed by a command at the same moment: look again and retry.
                continue
        raise OperationalError("the policy kept conflicting with concurrent commands")

    def _track_only(self, tracking: Tracking) -> None:
        try:
            self.app.save_tracked(tracking=tracking)
        except IntegrityError:
            pass  # already tracked

    async def _dead_letter(self, record: Any, error: BaseException, tracking: Tracking) -> None:
        dlq = dlq_of(record.topic)
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        headers |= {
            "x-error-type": type(error).__name__,
            "x-error-message": str(error)[:2000],
            "x-original-topic": record.topic,
            "x-original-partition": str(record.partition),
            "x-original-offset": str(record.offset),
            "x-consumer-group": self.group_id,
            "x-failed-at": datetime.now(UTC).isoformat(),
        }
        delay = 0.1
        while True:
            try:
                await self.broker.publish(record.value, dlq, key=record.key, headers=headers)
                break
            except Exception as publish_error:
                log.warning("%s: dead-lettering failed (%s); retrying", self.service, publish_error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.dead_lettered += 1
        self.last_error = f"dead-lettered {record.topic}@{record.offset}: {error}"
        log.error("%s: %s", self.service, self.last_error)
        while True:
            try:
                await asyncio.to_thread(self._track_only, tracking)
                return
            except INFRASTRUCTURE_ERRORS:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


class ResumeFromTracking(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, continue each partition after the offset the store has tracked.

    The store, not Kafka's committed offset, is the record of what has been handled.
    """

    def __init__(self, app: ServiceApplication) -> None:
        self.app = app
        self.subscriber: Any = None

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = getattr(self.subscriber, "consumer", None)
        if consumer is None:
            return
        recorder = self.app.process_recorder
        for tp in assigned:
            tracked = await asyncio.to_thread(
                recorder.max_tracking_id, f"{tp.topic}:{tp.partition}"
            )
            if tracked is not None:
                consumer.seek(tp, tracked + 1)
