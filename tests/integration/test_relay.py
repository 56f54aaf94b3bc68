"""The outbox relay on the real broker: what it publishes, how, and only once per store."""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from changeledger.contracts import Envelope
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Priority
from changeledger.planning.published import translations
from changeledger.planning.service import definition as planning
from changeledger.runtime.domain import acting
from changeledger.runtime.recent import RecentSaves
from changeledger.runtime.relay import Relay
from changeledger.runtime.service import ServiceRuntime
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.infra import KafkaServer
from tests.support.kafka import read_topic
from tests.support.services import eventually_async, running
from tests.support.stores import lose_a_conflict, opened


async def test_each_event_is_published_once_in_an_envelope_keyed_by_its_aggregate(
    settings: Settings, kafka: KafkaServer
) -> None:
    async with running(planning, settings) as service:
        with acting(RELEASE_MANAGER):
            releases = [
                service.app.plan_release(f"R{i}", "rita", Priority.MEDIUM, Q1) for i in range(6)
            ]
        records = await read_topic(kafka.bootstrap_servers, service.topic, at_least=6)

        async def tracked() -> bool:
            head = service.app.process_recorder.max_notification_id()
            return bool(service.relay.position == head)

        await eventually_async(tracked, what="relay position tracked after the acks")

    assert len(records) == 6
    envelopes = [Envelope.model_validate_json(r.value) for r in records]
    assert {e.subject for e in envelopes} == {str(r.id) for r in releases}
    for record, envelope in zip(records, envelopes, strict=True):
        assert record.key == envelope.subject.encode()
        assert envelope.type == "planning.release.planned"
        assert envelope.source == "planning"
        assert envelope.actor.sub == "rita"
        assert envelope.correlationid == "corr-test"
        # The envelope is the value (a structured CloudEvent); the ce_ headers let a
        # subscriber route without parsing it. These, and nothing else.
        assert list(record.headers) == [
            ("content-type", b"application/cloudevents+json"),
            ("ce_id", str(envelope.id).encode()),
            ("ce_type", b"planning.release.planned"),
            ("ce_source", b"planning"),
        ]
    by_partition: dict[int, list[int]] = defaultdict(list)
    for record, envelope in zip(records, envelopes, strict=True):
        by_partition[record.partition].append(envelope.sequence)
    for sequences in by_partition.values():
        assert sequences == sorted(sequences)


Replica = ServiceRuntime[PlanningApplication]


def patient(settings: Settings) -> Settings:
    """A relay that polls once a minute: only a wake-up can explain a prompt publish."""
    return settings.model_copy(update={"relay_idle_poll_seconds": 60.0})


@asynccontextmanager
async def two_replicas(settings: Settings) -> AsyncIterator[tuple[Replica, Replica]]:
    """Two replicas of planning on one store, once they have settled who leads: the
    leader first."""
    first, second = ServiceRuntime(planning, settings), ServiceRuntime(planning, settings)
    await first.start()
    await second.start()
    try:
        await asyncio.sleep(1.5)
        assert [first.relay.is_leader, second.relay.is_leader].count(True) == 1
        yield (first, second) if first.relay.is_leader else (second, first)
    finally:
        await first.stop()
        await second.stop()


async def test_only_one_relay_per_store_publishes(settings: Settings, kafka: KafkaServer) -> None:
    async with two_replicas(settings) as (leader, follower):
        with acting(RELEASE_MANAGER):
            leader.app.plan_release("A", "rita", Priority.LOW, Q1)
            follower.app.plan_release("B", "rita", Priority.LOW, Q1)
        await read_topic(kafka.bootstrap_servers, leader.topic, at_least=2)
        assert follower.relay.published == 0

        await leader.stop()

        async def took_over() -> bool:
            return follower.relay.is_leader

        await eventually_async(took_over, timeout=15, what="the other replica takes over")
        with acting(RELEASE_MANAGER):
            follower.app.plan_release("C", "rita", Priority.LOW, Q1)
        records = await read_topic(kafka.bootstrap_servers, follower.topic, at_least=3)
    names = sorted(Envelope.model_validate_json(r.value).data["name"] for r in records)
    assert names == ["A", "B", "C"]


async def test_a_save_by_another_replica_wakes_the_relay_at_once(
    settings: Settings, kafka: KafkaServer, store_kind: str
) -> None:
    # With a long idle poll, only a wake-up can explain a prompt publish.
    async with two_replicas(patient(settings)) as (_, follower):
        with acting(RELEASE_MANAGER):
            follower.app.plan_release("From the other replica", "rita", Priority.LOW, Q1)
        records = await read_topic(kafka.bootstrap_servers, follower.topic, 1, timeout=10)
    assert Envelope.model_validate_json(records[0].value).data["name"] == "From the other replica"


async def test_what_a_replica_saves_is_published_from_memory_and_the_rest_from_the_log(
    settings: Settings, kafka: KafkaServer
) -> None:
    # The leader has its own saves as they commit; another replica's saves it reads back.
    async with two_replicas(patient(settings)) as (leader, follower):
        with acting(RELEASE_MANAGER):
            for name in ("A", "B", "C"):
                leader.app.plan_release(name, "rita", Priority.LOW, Q1)
        await read_topic(kafka.bootstrap_servers, leader.topic, at_least=3)
        read_after_own_saves = leader.relay.read_from_store
        with acting(RELEASE_MANAGER):
            for name in ("D", "E"):
                follower.app.plan_release(name, "rita", Priority.LOW, Q1)
        records = await read_topic(kafka.bootstrap_servers, leader.topic, at_least=5)
        read_after_other_saves = leader.relay.read_from_store
        logged = leader.app.process_recorder.select_notifications(0, 10)
    assert read_after_own_saves == 0
    assert read_after_other_saves == 2
    assert names_in_log_order(records, logged) == ["A", "B", "C", "D", "E"]


async def settled(service: Replica, kafka: KafkaServer) -> None:
    """A first release published, and the relay's catch-up reads at its start (woken or
    not) done: what it reads from here on, the test caused."""
    with acting(RELEASE_MANAGER):
        service.app.plan_release("First", "rita", Priority.LOW, Q1)
    await read_topic(kafka.bootstrap_servers, service.topic, at_least=1)
    await asyncio.sleep(1.0)


async def test_a_service_alone_publishes_its_saves_without_reading_the_log(
    settings: Settings, kafka: KafkaServer
) -> None:
    # Neither the batch after its last save nor PostgreSQL's notification of its own
    # insert sends the relay to the log: only a save elsewhere or the idle poll does.
    async with running(planning, patient(settings)) as service:
        await settled(service, kafka)
        reads_before = service.relay.reads
        for n in range(5):
            with acting(RELEASE_MANAGER):
                service.app.plan_release(f"R{n}", "rita", Priority.LOW, Q1)
            await read_topic(kafka.bootstrap_servers, service.topic, at_least=2 + n)
        await asyncio.sleep(0.5)  # time for a notification to arrive
        reads = service.relay.reads - reads_before
    assert reads == 0


async def test_a_save_whose_commit_was_not_confirmed_is_published_at_once(
    settings: Settings, kafka: KafkaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The write committed, but its reply was lost (the connection died): the command
    # fails, nobody announces the events, and only the log has them.
    async with running(planning, patient(settings)) as service:
        await settled(service, kafka)
        group = service.app.group_commit
        write = group.write

        def committed_then_lost(stored: Sequence[Any]) -> Any:
            write(stored)
            raise OperationalError("the connection died before the reply")

        monkeypatch.setattr(group, "write", committed_then_lost)
        with acting(RELEASE_MANAGER), pytest.raises(OperationalError):
            service.app.plan_release("Unconfirmed", "rita", Priority.LOW, Q1)
        records = await read_topic(kafka.bootstrap_servers, service.topic, 2, timeout=10)
    names = {Envelope.model_validate_json(r.value).data["name"] for r in records}
    assert names == {"First", "Unconfirmed"}


async def test_between_its_own_saves_the_relay_reads_only_the_other_replicas(
    settings: Settings, kafka: KafkaServer
) -> None:
    # Saves of two replicas interleaved in the log: the leader reads back the one that is
    # not its own, not everything from that gap on.
    async with two_replicas(patient(settings)) as (leader, follower):
        # Saved without yielding to the event loop: the relay sees all four at once.
        with acting(RELEASE_MANAGER):
            leader.app.plan_release("A", "rita", Priority.LOW, Q1)
            follower.app.plan_release("B", "rita", Priority.LOW, Q1)
            leader.app.plan_release("C", "rita", Priority.LOW, Q1)
            leader.app.plan_release("D", "rita", Priority.LOW, Q1)
        records = await read_topic(kafka.bootstrap_servers, leader.topic, at_least=4)
        read = leader.relay.read_from_store
        logged = leader.app.process_recorder.select_notifications(0, 10)
    assert read == 1
    assert names_in_log_order(records, logged) == ["A", "B", "C", "D"]


async def test_ids_that_a_failed_write_used_up_are_passed_over_without_reading_the_log(
    settings: Settings, kafka: KafkaServer
) -> None:
    # PostgreSQL's sequence is not given back by a rolled-back insert: a gap in the log
    # that holds nothing to read. (SQLite leaves no gap: there, only the memory is tried.)
    async with running(planning, patient(settings)) as service:
        app = service.app
        with acting(RELEASE_MANAGER):
            contested = app.plan_release("Contested", "rita", Priority.LOW, Q1)
            await read_topic(kafka.bootstrap_servers, service.topic, at_least=1)
            read_before = service.relay.read_from_store
            lose_a_conflict(app, contested.id)
            app.plan_release("After the conflict", "rita", Priority.LOW, Q1)
        records = await read_topic(kafka.bootstrap_servers, service.topic, at_least=3)
        read = service.relay.read_from_store - read_before
        logged = app.process_recorder.select_notifications(0, 10)
    assert read == 0
    published = sorted(Envelope.model_validate_json(r.value).sequence for r in records)
    assert published == [n.id for n in logged]


def names_in_log_order(records: Sequence[Any], logged: Sequence[Any]) -> list[str]:
    """The releases named by the published envelopes, which must be the log's events."""
    envelopes = sorted((Envelope.model_validate_json(r.value) for r in records), key=_sequence)
    assert [e.sequence for e in envelopes] == [n.id for n in logged]
    return [e.data["name"] for e in envelopes]


def _sequence(envelope: Envelope) -> int:
    return envelope.sequence


class _AnnouncedLate(RecentSaves[Any]):
    """Saves announced just after the relay's take: ones an earlier read of the store
    has already published (their writer was slower to announce than the relay to read)."""

    def __init__(self, late: list[tuple[int, Any]]) -> None:
        super().__init__(Relay.recent_limit)
        self.late = late

    def take_after(self, position: int, most: int | None = None) -> list[tuple[int, Any]]:
        taken = super().take_after(position, most)
        self.add(self.late)
        self.late = []
        return taken


def test_saves_announced_after_the_relay_read_them_are_not_published_again(
    store_settings: Settings,
) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app:
        relay = Relay(app, "planning", "t", translations, publisher=None, leadership=None)  # type: ignore[arg-type]
        for name in ("A", "B"):
            with acting(RELEASE_MANAGER):
                app.plan_release(name, "rita", Priority.LOW, Q1)
        logged = [
            (n.id, app.decoder.to_domain_event(n))
            for n in app.process_recorder.select_notifications(0, 10)
        ]
        relay._recent = _AnnouncedLate(logged)
        relay._recent.follow()

        assert relay._next_batch(logged[-1][0]) == (None, [])
