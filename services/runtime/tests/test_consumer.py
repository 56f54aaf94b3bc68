"""The consumer's part in a rebalance: where an assigned partition resumes, and what
happens to records queued for a partition that was taken away."""

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition

from changeledger.runtime.consumer import Consumer, Policies, ResumeFromTracking
from changeledger.runtime.threads import WorkerThreads

P0 = TopicPartition("planning.events", 0)
P1 = TopicPartition("planning.events", 1)


class FakeKafkaConsumer:
    """Records what the listener asks of the Kafka consumer, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.paused: set[TopicPartition] = set()

    def pause(self, *partitions: TopicPartition) -> None:
        self.calls.append(("pause", set(partitions)))
        self.paused |= set(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.calls.append(("resume", set(partitions)))
        self.paused -= set(partitions)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.calls.append(("seek", (tp, offset)))


class FakeRecorder:
    def __init__(self, kafka: FakeKafkaConsumer, tracked: dict[str, int]) -> None:
        self.kafka = kafka
        self.tracked = tracked

    def max_tracking_id(self, name: str) -> int | None:
        # Asked while the fetcher could run: the partitions must already be paused.
        self.kafka.calls.append(("asked", name))
        assert self.kafka.paused, "the store was asked before the partitions were paused"
        return self.tracked.get(name)


class SlowRecorder(FakeRecorder):
    """A store that answers only once it is let to."""

    def __init__(self, kafka: FakeKafkaConsumer, tracked: dict[str, int]) -> None:
        super().__init__(kafka, tracked)
        self.answer = threading.Event()

    def max_tracking_id(self, name: str) -> int | None:
        self.answer.wait(10)
        return super().max_tracking_id(name)


class DownRecorder(FakeRecorder):
    def max_tracking_id(self, name: str) -> int | None:
        super().max_tracking_id(name)
        raise ConnectionError("store down")


def listener_on(kafka: FakeKafkaConsumer, recorder: FakeRecorder) -> ResumeFromTracking:
    app: Any = SimpleNamespace(process_recorder=recorder)
    listener = ResumeFromTracking(app, WorkerThreads())
    listener.subscriber = SimpleNamespace(consumer=kafka)
    return listener


async def test_an_assigned_partition_resumes_after_its_tracked_offset() -> None:
    kafka = FakeKafkaConsumer()
    recorder = FakeRecorder(kafka, {"planning.events:0": 41})
    await listener_on(kafka, recorder).on_partitions_assigned({P0, P1})

    assert kafka.calls[0] == ("pause", {P0, P1})
    assert [args for call, args in kafka.calls if call == "seek"] == [(P0, 42)]
    assert kafka.calls[-1] == ("resume", {P0, P1})
    assert not kafka.paused


async def test_partitions_are_paused_before_the_listener_first_waits() -> None:
    # aiokafka's fetcher may run as soon as the listener waits for anything, and would
    # then fetch from Kafka's committed offset, behind the store's.
    kafka = FakeKafkaConsumer()
    recorder = SlowRecorder(kafka, {"planning.events:0": 7})
    assigning = asyncio.create_task(listener_on(kafka, recorder).on_partitions_assigned({P0}))
    await asyncio.sleep(0)  # the listener runs up to its first wait
    assert kafka.paused == {P0}
    recorder.answer.set()
    await assigning
    assert kafka.calls[-2:] == [("seek", (P0, 8)), ("resume", {P0})]


async def test_partitions_are_resumed_when_the_store_cannot_say() -> None:
    kafka = FakeKafkaConsumer()
    listener = listener_on(kafka, DownRecorder(kafka, {}))
    try:
        await listener.on_partitions_assigned({P0})
    except ConnectionError:
        pass
    else:
        raise AssertionError("the store's error was swallowed")
    # aiokafka logs the listener's error and goes on from Kafka's committed offsets;
    # the partition must not stay paused for good.
    assert not kafka.paused


async def test_records_queued_for_a_revoked_partition_are_kept_in_order() -> None:
    # They follow on from what the store tracked. Dropping them would leave a gap that a
    # later record of the partition, already in the consume loop's hands, would jump.
    app: Any = SimpleNamespace()
    consumer: Consumer[Any] = Consumer(app, "risk", Policies())
    records = [
        SimpleNamespace(topic=tp.topic, partition=tp.partition, offset=offset)
        for offset in range(3)
        for tp in (P0, P1)
    ]
    for record in records:
        await consumer._enqueue(record)

    await ResumeFromTracking(app, WorkerThreads()).on_partitions_revoked({P0})

    left = [consumer._queue.get_nowait() for _ in range(consumer.backlog)]
    assert left == records
