"""A relay that stops between the broker's ack and its tracking write publishes the same
event again when it resumes; the consumer records the effect once."""

from changeledger.contracts import Envelope
from changeledger.planning.domain import Priority
from changeledger.planning.service import definition as planning
from changeledger.risk.application import RiskApplication
from changeledger.risk.service import definition as risk
from changeledger.runtime.domain import acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.infra import KafkaServer
from tests.support.kafka import read_topic
from tests.support.services import eventually_async, running
from tests.support.stores import events_of, opened


class RelayStopped(Exception):
    pass


async def test_a_republished_event_changes_the_downstream_store_once(
    settings: Settings, kafka: KafkaServer
) -> None:
    async with running(risk, settings) as risk_service, running(planning, settings) as service:
        stops: list[int] = []

        def stop_once_after_the_ack(position: int) -> None:
            if not stops:
                stops.append(position)
                raise RelayStopped("stopped between the broker's ack and the tracking write")

        service.relay.after_ack = stop_once_after_the_ack
        service.relay.restart_delay = 0.1
        with acting(RELEASE_MANAGER):
            release = service.app.plan_release("Twice-sent", "rita", Priority.HIGH, Q1)

        records = await read_topic(kafka.bootstrap_servers, service.topic, at_least=2)
        envelopes = [Envelope.model_validate_json(r.value) for r in records]
        assert stops, "the relay never stopped"
        assert len(envelopes) == 2
        assert envelopes[0].id == envelopes[1].id

        async def seen_twice() -> bool:
            return bool(
                risk_service.consumer.counts.applied == risk_service.consumer.counts.duplicates == 1
            )

        await eventually_async(seen_twice, what="risk saw the event twice")

    with opened(RiskApplication, "risk", settings) as store:
        opened_registers = events_of(store, "RiskRegister.Opened")
        receipts = events_of(store, "ReceivedMessage.Received")
    assert [e.release_id for e in opened_registers] == [release.id]
    assert [r.envelope_id for r in receipts] == [envelopes[0].id]
