"""A message that can never be handled goes to the dead-letter topic with its error, and
the consumer carries on with the next one."""

import json
from uuid import uuid4

from changeledger.contracts import dlq_of
from changeledger.planning.domain import Priority
from changeledger.planning.service import definition as planning
from changeledger.risk.service import definition as risk
from changeledger.runtime.domain import acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.infra import KafkaServer
from tests.support.kafka import produce, read_topic
from tests.support.services import eventually_async, running


def valid_looking_envelope(**changes: object) -> bytes:
    release_id = str(uuid4())
    envelope = {
        "id": str(uuid4()),
        "source": "planning",
        "type": "planning.release.planned",
        "dataversion": 1,
        "subject": release_id,
        "time": "2027-01-01T00:00:00Z",
        "actor": {"sub": "mallory"},
        "correlationid": "c",
        "sequence": 1,
        "data": {"release_id": release_id},  # misses required fields
    }
    return json.dumps(envelope | changes).encode()


async def test_poison_messages_are_dead_lettered_and_the_next_good_one_is_handled(
    settings: Settings, kafka: KafkaServer
) -> None:
    async with running(risk, settings) as risk_service, running(planning, settings) as service:
        topic = service.topic
        poisons = [
            b"\x00 not json at all",
            valid_looking_envelope(),
            valid_looking_envelope(source="cmdb"),
            valid_looking_envelope(dataversion=7),
        ]
        for poison in poisons:
            await produce(kafka.bootstrap_servers, topic, poison, key=b"k")
        with acting(RELEASE_MANAGER):
            release = service.app.plan_release("After the poison", "rita", Priority.LOW, Q1)

        async def handled() -> bool:
            return bool(risk_service.app.has_register(release.id))

        await eventually_async(handled, what="the good message after the poison is handled")
        dead = await read_topic(kafka.bootstrap_servers, dlq_of(topic), at_least=len(poisons))

    assert sorted(r.value for r in dead) == sorted(poisons)
    for record in dead:
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["x-original-topic"] == topic
        assert headers["x-consumer-group"] == settings.topic("risk")
        assert headers["x-error-type"]
        assert headers["x-error-message"]
    assert risk_service.consumer.counts.dead_lettered == len(poisons)
