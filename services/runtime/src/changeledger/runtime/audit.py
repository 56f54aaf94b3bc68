"""The audit trail's guarantees: signed checkpoints of the log, and their verification.

Each event is chained to its aggregate's previous one (`chain.py`). On its own clock each
service also seals its notification log: a hash over the chain hashes of the events since
the previous checkpoint, in log order, chained to that checkpoint and signed with an HMAC
key the store does not hold, recorded as an `AuditLog.Sealed` event. The latest
checkpoint is also kept outside the store (a witness file beside it), so that cutting off
the end of the log, checkpoints and all, shows.
`verify` streams the store and recomputes everything, so it finds a modified payload, a
deleted, reordered or hand-inserted event, and a truncated tail.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from changeledger.runtime.auth import key_file
from changeledger.runtime.chain import GENESIS, ChainingMapper, closed, link, split
from changeledger.runtime.domain import Aggregate
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication

AUDIT_LOG_ID = uuid5(NAMESPACE_URL, "urn:changeledger:audit-log")
_BATCH = 5000
#: Events a verification keeps unhashed at least, for a checkpoint recorded after later
#: events (it hashes them in runs of this many).
_RECENT = 10_000


class AuditLog(Aggregate):
    """The service's signed checkpoints of its own log."""

    class Started(Aggregate.Created):
        pass

    @staticmethod
    def create_id() -> UUID:
        return AUDIT_LOG_ID

    @event(Started)
    def __init__(self) -> None:
        self.position = 0
        self.log_hash = GENESIS

    class Sealed(Aggregate.Event):
        position: int
        log_hash: str
        signature: str

    @event(Sealed)
    def sealed(self, position: int, log_hash: str, signature: str) -> None:
        self.position, self.log_hash = position, log_hash


SEALED_TOPIC = get_topic(AuditLog.Sealed)


def signature(key: bytes, service: str, position: int, log_hash: str) -> str:
    return hmac.new(key, f"{service}\n{position}\n{log_hash}".encode(), hashlib.sha256).hexdigest()


class LogHash:
    """The hash of the log from the previous checkpoint on: each event's position and
    chain hash, in order (one hash per segment, not per event, keeps verifying fast).
    Fed one event at a time, so neither sealing nor verifying holds a segment in memory."""

    def __init__(self, previous: str) -> None:
        self._digest = hashlib.sha256(previous.encode())

    def add(self, position: int, chain: str) -> None:
        self._digest.update(f"\n{position}:{chain}".encode())

    def add_all(self, entries: list[tuple[int, str]]) -> None:
        self._digest.update(
            "".join(f"\n{position}:{chain}" for position, chain in entries).encode()
        )

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def notifications_after(app: ServiceApplication, position: int) -> Iterator[Notification]:
    recorder = app.process_recorder
    while batch := recorder.select_notifications(position, _BATCH, inclusive_of_start=False):
        yield from batch
        position = batch[-1].id


def _chain_of(mapper: ChainingMapper, notification: Notification) -> str:
    parts = split(mapper.plain(notification))
    return parts[1] if parts else hashlib.sha256(notification.state).hexdigest()


def audit_key(settings: Settings) -> bytes:
    """The key that signs checkpoints: configured (the same for every replica of a
    service), or a local one kept beside the stores."""
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().encode()
    return key_file(settings.data_dir, "audit-signing.key")


def witness_file(settings: Settings, service: str) -> Path:
    return settings.data_dir / "audit" / f"{service}.checkpoint.json"


def seal_log(app: ServiceApplication, key: bytes, witness: Path | None = None) -> int | None:
    """Record a signed checkpoint of the log up to its head, if anything but checkpoints
    was recorded since the last one. Returns the position sealed (None when there was
    nothing new, or another replica sealed at the same moment)."""
    try:
        return _seal(app, key, witness)
    except IntegrityError:
        return None


def _seal(app: ServiceApplication, key: bytes, witness: Path | None) -> int | None:
    log = app.get(AUDIT_LOG_ID, AuditLog) if app.contains(AUDIT_LOG_ID) else AuditLog()
    assert isinstance(app.mapper, ChainingMapper)
    segment, position, news = LogHash(log.log_hash), 0, False
    for notification in notifications_after(app, log.position):
        position = notification.id
        segment.add(position, _chain_of(app.mapper, notification))
        news = news or notification.topic != SEALED_TOPIC
    if not news:
        return None
    log_hash = segment.hexdigest()
    signed = signature(key, app.name, position, log_hash)
    log.sealed(position, log_hash, signed)
    app.save(log)
    if witness is not None:
        witness.parent.mkdir(parents=True, exist_ok=True)
        scratch = witness.with_suffix(".tmp")
        checkpoint = {"position": position, "log_hash": log_hash, "signature": signed}
        scratch.write_text(json.dumps(checkpoint))
        scratch.replace(witness)
    return position


class Tampered(Exception):
    """The first broken link found."""


@dataclass
class Verification:
    service: str
    events: int = 0
    aggregates: int = 0
    checkpoints: int = 0
    sealed_position: int = 0
    unsealed: int = 0
    seconds: float = 0.0
    broken: str | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify(
    app: ServiceApplication,
    key: bytes,
    witness: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Stream the whole log, checking every event's chain and every signed checkpoint,
    and the log's length against the witness of its latest checkpoint."""
    assert isinstance(app.mapper, ChainingMapper)
    report = Verification(app.name)
    started = time.perf_counter()
    try:
        _verify(app, app.mapper, key, report, progress)
        if witness is not None and witness.exists():
            _check_witness(app.name, key, json.loads(witness.read_text()), report)
    except Tampered as broken:
        report.broken = str(broken)
    report.seconds = time.perf_counter() - started
    return report


#: One stored event as verification reads it: log position, aggregate id (as text),
#: version, topic and stored state.
RawEvent = tuple[int, str, int, str, bytes]


def raw_log(app: ServiceApplication) -> Iterator[RawEvent]:
    """The stored log in order, as plain rows: reading it through the recorder's own
    notifications costs more than verifying it (UUIDs and objects for every row)."""
    recorder: Any = app.recorder
    if isinstance(recorder, SQLiteAggregateRecorder):
        statement: Any = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?"
        )

        known: dict[str, str] = {}

        def text(key: Any) -> str:  # SQLite keeps UUIDs as their hex digits
            found = known.get(key)
            if found is None:
                found = known[key] = str(UUID(hex=key))
            return found

    elif isinstance(recorder, PostgresAggregateRecorder):
        statement = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )

        def text(key: Any) -> str:
            return str(key)

    else:  # any other recorder: through its notifications
        for n in notifications_after(app, 0):
            yield n.id, str(n.originator_id), n.originator_version, n.topic, n.state
        return
    position = 0
    while True:
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (position, _BATCH))
            rows = cursor.fetchall()
        if rows and isinstance(rows[0], dict):  # PostgreSQL's rows are dicts
            rows = [tuple(row.values()) for row in rows]
        yield from [(row[0], text(row[1]), row[2], row[3], bytes(row[4])) for row in rows]
        if len(rows) < _BATCH:
            return
        position = rows[-1][0]


def _verify(
    app: ServiceApplication,
    mapper: ChainingMapper,
    key: bytes,
    report: Verification,
    progress: Callable[[int], None] | None,
) -> None:
    heads: dict[str, tuple[int, str]] = {}
    unsealed = Segment()
    last_id = 0
    plain = mapper.plain_state if (mapper.cipher or mapper.compressor) else None
    for position, originator_id, version, topic, state in raw_log(app):
        try:
            parts = split(plain(state) if plain else state)
        except Exception as error:  # a cipher or compressor refusing altered bytes
            where = _where(originator_id, version, position)
            raise Tampered(f"{where} cannot be read: {error}") from None
        if parts is None:
            raise Tampered(
                f"{_where(originator_id, version, position)} carries no chain: it was "
                "inserted or rewritten by hand"
            )
        opened, chain = parts
        previous_version, previous = heads.get(originator_id, (0, GENESIS))
        if version != previous_version + 1:
            raise Tampered(
                f"{_where(originator_id, version, position)} follows v{previous_version} "
                "of its aggregate: events were deleted or reordered"
            )
        if link(previous, topic, originator_id, version, opened) != chain:
            raise Tampered(
                f"{_where(originator_id, version, position)} does not match its hash: its "
                "content was altered"
            )
        heads[originator_id] = (version, chain)
        unsealed.add(position, chain)
        last_id = position
        report.events += 1
        if topic == SEALED_TOPIC:
            where = _where(originator_id, version, position)
            _check_seal(app.name, key, json.loads(closed(opened)), unsealed, where, report)
        if progress is not None and report.events % 10_000 == 0:
            progress(report.events)
    report.aggregates = len(heads)
    if report.sealed_position > last_id:
        raise Tampered(
            f"the log ends at position {last_id}, but was sealed up to "
            f"{report.sealed_position}: its tail was truncated"
        )
    report.unsealed = unsealed.events


def _where(originator_id: str, version: int, position: int) -> str:
    return f"event {originator_id} v{version} (log position {position})"


def _signed(service: str, key: bytes, checkpoint: dict[str, object], what: str) -> tuple[int, str]:
    """The position and log hash of a checkpoint signed with this service's key."""
    position, sealed_hash = checkpoint["position"], checkpoint["log_hash"]
    if not isinstance(position, int) or not isinstance(sealed_hash, str):
        raise Tampered(f"{what} is not a checkpoint")
    expected = signature(key, service, position, sealed_hash)
    if not hmac.compare_digest(expected, str(checkpoint["signature"])):
        raise Tampered(f"{what} is not signed with this service's key")
    return position, sealed_hash


def _check_witness(
    service: str, key: bytes, checkpoint: dict[str, object], report: Verification
) -> None:
    position, _ = _signed(service, key, checkpoint, "the witness checkpoint")
    if position > report.sealed_position:
        raise Tampered(
            f"the log was sealed up to position {position}, but its last checkpoint now "
            f"seals {report.sealed_position}: its tail was cut off"
        )


class Segment:
    """The log since the last verified checkpoint. Its events are folded into the log
    hash as they are read, except the latest few: a checkpoint is recorded just after
    the position it seals, so events in between belong to the next segment."""

    def __init__(self) -> None:
        self.events = 0
        self._hash = LogHash(GENESIS)
        self._recent: list[tuple[int, str]] = []
        self._folded_up_to = 0

    def add(self, position: int, chain: str) -> None:
        self.events += 1
        self._recent.append((position, chain))
        if len(self._recent) >= 2 * _RECENT:
            self._fold(len(self._recent) - _RECENT)

    def _fold(self, count: int) -> None:
        """Hash the oldest `count` recent events, in one go."""
        folded, self._recent = self._recent[:count], self._recent[count:]
        if folded:
            self._hash.add_all(folded)
            self._folded_up_to = folded[-1][0]

    def hash_up_to(self, position: int) -> str | None:
        """The segment's hash up to `position`; None when events after it were folded
        already (a checkpoint recorded long after what it seals: not how they are made)."""
        if self._folded_up_to > position:
            return None
        self._fold(bisect_right(self._recent, position, key=itemgetter(0)))
        return self._hash.hexdigest()

    def begin_after(self, sealed_hash: str) -> None:
        """Start the next segment, with the events read beyond the checkpoint."""
        self.events = len(self._recent)
        self._hash = LogHash(sealed_hash)
        self._folded_up_to = 0


def _check_seal(
    service: str,
    key: bytes,
    state: dict[str, object],
    unsealed: Segment,
    where: str,
    report: Verification,
) -> None:
    position, sealed_hash = _signed(service, key, state, f"the checkpoint at {where}")
    if unsealed.hash_up_to(position) != sealed_hash:
        raise Tampered(
            f"the log up to position {position} differs from what the checkpoint at "
            f"{where} sealed: events were inserted, deleted or altered before it"
        )
    report.checkpoints += 1
    report.sealed_position = position
    unsealed.begin_after(sealed_hash)
