"""The outbox relay on the real broker: what it publishes, how, and only once per store."""

import asyncio
from collections import defaultdict

from changeledger.contracts import Envelope
from changeledger.planning.domain import Priority
from changeledger.planning.service import definition as planning
from changeledger.runtime.domain import acting
from changeledger.runtime.service import ServiceRuntime
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.infra import KafkaServer
from tests.support.kafka import read_topic
from tests.support.services import eventually_async, running


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
        assert dict(record.headers)["ce_id"] == str(envelope.id).encode()
    by_partition: dict[int, list[int]] = defaultdict(list)
    for record, envelope in zip(records, envelopes, strict=True):
        by_partition[record.partition].append(envelope.sequence)
    for sequences in by_partition.values():
        assert sequences == sorted(sequences)


async def test_only_one_relay_per_store_publishes(settings: Settings, kafka: KafkaServer) -> None:
    first, second = ServiceRuntime(planning, settings), ServiceRuntime(planning, settings)
    await first.start()
    await second.start()
    try:
        await asyncio.sleep(1.5)
        assert [first.relay.is_leader, second.relay.is_leader].count(True) == 1
        leader, follower = (first, second) if first.relay.is_leader else (second, first)
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
    finally:
        await first.stop()
        await second.stop()
    names = sorted(Envelope.model_validate_json(r.value).data["name"] for r in records)
    assert names == ["A", "B", "C"]


async def test_a_save_by_another_replica_wakes_the_relay_at_once(
    settings: Settings, kafka: KafkaServer, store_kind: str
) -> None:
    # With a long idle poll, only a wake-up can explain a prompt publish.
    patient = settings.model_copy(update={"relay_idle_poll_seconds": 60.0})
    first, second = ServiceRuntime(planning, patient), ServiceRuntime(planning, patient)
    await first.start()
    await second.start()
    try:
        await asyncio.sleep(1.5)
        follower = second if first.relay.is_leader else first
        with acting(RELEASE_MANAGER):
            follower.app.plan_release("From the other replica", "rita", Priority.LOW, Q1)
        records = await read_topic(kafka.bootstrap_servers, follower.topic, 1, timeout=10)
    finally:
        await first.stop()
        await second.stop()
    assert Envelope.model_validate_json(records[0].value).data["name"] == "From the other replica"
