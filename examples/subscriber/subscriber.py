"""An example subscriber to Changeledger's events: only `changeledger-contracts` and
aiokafka, nothing else of Changeledger.

It follows the services' topics, turns each record into its typed event, and keeps its
own position (one offset per partition) in a small SQLite file, so it carries on where it
stopped, and can replay everything from the beginning with `--from-beginning`.

    python examples/subscriber/subscriber.py --bootstrap 127.0.0.1:9092
    python examples/subscriber/subscriber.py --from-beginning --topics planning.events

Delivery is at least once: a record handled just before a crash is handled again after
it. Deduplicate on the envelope `id` if your handler is not idempotent (this one keeps
the ids it has seen). Events of one aggregate arrive in order (they share a key, so a
partition); an unknown type or a newer version is skipped, never a reason to stop.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from changeledger.contracts import Envelope, IntegrationEvent, UnknownEventType, parse_event

TOPICS = ("planning.events", "risk.events", "communication.events", "cmdb.events")


class Position:
    """The next offset to read, per topic partition, and the envelopes already handled."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS position (topic TEXT, part INTEGER, next INTEGER, "
            "PRIMARY KEY (topic, part))"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS seen (envelope_id TEXT PRIMARY KEY)")

    def next_offset(self, partition: TopicPartition) -> int | None:
        row = self.db.execute(
            "SELECT next FROM position WHERE topic = ? AND part = ?",
            (partition.topic, partition.partition),
        ).fetchone()
        return row[0] if row else None

    def handled(self, partition: TopicPartition, offset: int, envelope_id: str | None) -> bool:
        """Record the position (and the envelope); False if it was handled before."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO position VALUES (?, ?, ?)",
                (partition.topic, partition.partition, offset + 1),
            )
            if envelope_id is None:
                return True
            inserted = self.db.execute(
                "INSERT OR IGNORE INTO seen VALUES (?)", (envelope_id,)
            ).rowcount
            return inserted == 1

    def forget(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM position")
            self.db.execute("DELETE FROM seen")


def show(envelope: Envelope, event: IntegrationEvent) -> None:
    print(
        f"{envelope.time:%Y-%m-%d %H:%M:%S} {envelope.type} v{envelope.dataversion} "
        f"by {envelope.actor.sub}: {event.model_dump_json()}"
    )


async def partitions_of(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return sorted(
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    )


async def follow(
    bootstrap: str,
    topics: list[str],
    position: Position,
    handle: Callable[[Envelope, IntegrationEvent], None] = show,
    idle_seconds: float | None = None,
) -> int:
    """Handle records until stopped (or until nothing arrives for `idle_seconds`);
    returns how many events were handled."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    handled = 0
    try:
        partitions = await partitions_of(bootstrap, topics)
        consumer.assign(partitions)
        for partition in partitions:
            offset = position.next_offset(partition)
            if offset is None:
                await consumer.seek_to_beginning(partition)
            else:
                consumer.seek(partition, offset)
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            if not batches and idle_seconds is not None:
                idle_seconds -= 0.5
                if idle_seconds <= 0:
                    return handled
            for partition, records in batches.items():
                for record in records:
                    envelope_id = None
                    try:
                        envelope = Envelope.model_validate_json(record.value)
                        event = parse_event(envelope)
                        envelope_id = str(envelope.id)
                    except (ValidationError, UnknownEventType, ValueError) as error:
                        print(f"skipping {partition.topic}@{record.offset}: {error}")
                        envelope = None
                    if position.handled(partition, record.offset, envelope_id) and envelope:
                        handle(envelope, event)
                        handled += 1
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--topics", nargs="+", default=list(TOPICS))
    parser.add_argument("--position", type=Path, default=Path("subscriber-position.sqlite"))
    parser.add_argument("--from-beginning", action="store_true", help="replay everything")
    args = parser.parse_args()
    position = Position(args.position)
    if args.from_beginning:
        position.forget()
    asyncio.run(follow(args.bootstrap, args.topics, position))


if __name__ == "__main__":
    main()
