"""The consumer's own idea of where each partition stands: asked of the store once, then
moved by its saves; and behind the store (another replica's work), still exactly once."""

import asyncio
from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import Tracking

from changeledger.contracts import planning as planning_events
from changeledger.risk.application import RiskApplication
from changeledger.risk.policies import policies
from changeledger.runtime.consumer import Consumer
from changeledger.runtime.settings import Settings
from tests.support.events import envelope_of
from tests.support.stores import events_of, opened

TOPIC = planning_events.ReleasePlanned.topic()


def planned(offset: int) -> Any:
    """A record of planning's topic, as Kafka would hand it over, on partition 0."""
    release_id = uuid4()
    event = planning_events.ReleasePlanned(
        release_id=release_id,
        name=f"R{offset}",
        owner="rita",
        priority="medium",
        target_start=date(2027, 1, 4),
        target_end=date(2027, 3, 26),
    )
    envelope = envelope_of(event).model_copy(update={"subject": str(release_id)})
    return SimpleNamespace(
        topic=TOPIC,
        partition=0,
        offset=offset,
        key=str(release_id).encode(),
        value=envelope.model_dump_json().encode(),
        headers=(),
        timestamp=0,
    )


@pytest.fixture
def risk(store_settings: Settings) -> Iterator[RiskApplication]:
    with opened(RiskApplication, "risk", store_settings) as app:
        yield app


def consumer_of(app: RiskApplication) -> Consumer[RiskApplication]:
    return Consumer(app, "risk", policies)


async def deliver(consumer: Consumer[RiskApplication], records: list[Any]) -> None:
    await consumer.process([consumer._parse(record) for record in records])


async def test_the_store_is_asked_where_a_partition_stands_once(
    risk: RiskApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = consumer_of(risk)
    asked: list[str] = []
    recorder = risk.process_recorder
    ask = recorder.max_tracking_id

    def counting(name: str) -> int | None:
        asked.append(name)
        return ask(name)

    monkeypatch.setattr(recorder, "max_tracking_id", counting)
    for offset in range(3):
        await deliver(consumer, [planned(offset)])
    await deliver(consumer, [planned(1)])  # handed over again: known as handled
    assert asked == [f"{TOPIC}:0"]
    assert (consumer.counts.applied, consumer.counts.duplicates) == (3, 1)


async def test_records_another_replica_handled_are_not_applied_again(
    risk: RiskApplication,
) -> None:
    # This consumer last knew offset 2; another replica has since handled 3 to 5, and
    # they reach this one too (as they would a member the group has not yet dropped).
    here, elsewhere = consumer_of(risk), consumer_of(risk)
    records = [planned(offset) for offset in range(6)]
    await deliver(here, records[:3])
    await deliver(elsewhere, records[3:])

    await deliver(here, records[3:])

    assert here.counts.applied == 3
    assert here.counts.duplicates == 3
    assert len(events_of(risk, "RiskRegister.Opened")) == 6
    assert risk.process_recorder.max_tracking_id(f"{TOPIC}:0") == 5


async def test_a_poison_record_another_replica_handled_is_not_dead_lettered_again(
    risk: RiskApplication,
) -> None:
    here = consumer_of(risk)
    await deliver(here, [planned(offset) for offset in range(3)])
    poison = planned(3)
    poison.value = b"not an envelope"
    # Another replica held the partition meanwhile: it dead-lettered the record, and
    # tracked it.
    risk.save_tracked(tracking=Tracking(f"{TOPIC}:0", 3))

    # This consumer has no broker: dead-lettering would retry until the timeout.
    await asyncio.wait_for(deliver(here, [poison]), timeout=10)

    assert (here.counts.dead_lettered, here.counts.duplicates) == (0, 1)
