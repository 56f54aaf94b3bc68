"""Read and write topics directly, as an outside observer of the services."""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord


async def read_topic(
    bootstrap_servers: str,
    topic: str,
    at_least: int,
    timeout: float = 30.0,
    keys: set[bytes] | None = None,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic` from the beginning, once at least `at_least` have arrived
    (and, when `keys` are given, once every one of them has been seen)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        await consumer.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
            seen_all = keys is None or keys <= {r.key for r in records}
            if len(records) >= at_least and seen_all:
                # Drain whatever else is already there (duplicates, say).
                extra = await consumer.getmany(timeout_ms=1000)
                for partition_records in extra.values():
                    records.extend(partition_records)
                return records
        raise AssertionError(f"{topic}: only {len(records)} of {at_least} records arrived")
    finally:
        await consumer.stop()


async def produce(
    bootstrap_servers: str,
    topic: str,
    value: bytes,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> Any:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    try:
        await producer.start()
        return await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
