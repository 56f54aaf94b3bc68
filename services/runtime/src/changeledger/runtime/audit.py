"""The audit trail's guarantees: signed checkpoints of the log, and their verification.

Each event is chained to its aggregate's previous one (`chain.py`). On its own clock each
service also seals its notification log: a hash over the chain hashes of the events since
the previous checkpoint, in log order, chained to that checkpoint and signed with an HMAC
key the store does not hold, recorded as an `AuditLog.Sealed` event. The latest
checkpoint is also kept outside the store (a witness file beside it), so that cutting off
the end of the log, checkpoints and all, shows.
`verification.verify` reads the store and recomputes everything, so it finds a modified
payload, a deleted, reordered or hand-inserted event, and a truncated tail.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.utils import get_topic

from changeledger.runtime.auth import key_file
from changeledger.runtime.chain import GENESIS, ChainingMapper, split
from changeledger.runtime.domain import Aggregate, NotFound
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication

AUDIT_LOG_ID = uuid5(NAMESPACE_URL, "urn:changeledger:audit-log")
_BATCH = 5000


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


def entry(position: int, chain: str) -> bytes:
    """What the log hash covers of one event."""
    return f"\n{position}:{chain}".encode()


class LogHash:
    """The hash of the log from the previous checkpoint on: each event's position and
    chain hash, in order (one hash per segment, not per event, keeps verifying fast).
    Fed one event at a time, so neither sealing nor verifying holds a segment in memory."""

    def __init__(self, previous: str) -> None:
        self._digest = hashlib.sha256(previous.encode())

    def add(self, position: int, chain: str) -> None:
        self._digest.update(entry(position, chain))

    def add_entries(self, entries: bytes | memoryview) -> None:
        """Entries as `entry` gives them, joined."""
        self._digest.update(entries)

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
    return Sealer(app, key, witness).seal()


class Sealer:
    """Seals a store's log (`seal`), having hashed it as it grew (`advance`, called
    often): a seal then hashes only the last few events, where hashing a minute of a
    busy log at once held the interpreter for 100 ms, stalling everything else."""

    def __init__(self, app: ServiceApplication, key: bytes, witness: Path | None = None) -> None:
        self.app, self.key, self.witness = app, key, witness
        self._lock = threading.Lock()
        #: The checkpoint the segment follows: its position and log hash, and the
        #: version of the audit log that recorded it.
        self._follows: tuple[int, str] | None = None
        self._version = 0
        self._segment, self._position, self._news = LogHash(GENESIS), 0, False
        #: Events hashed so far (each once, unless the segment had to start again).
        self.hashed = 0

    def advance(self) -> None:
        """Hash what the log gained since the last call."""
        with self._lock:
            if self._follows is None:
                self._checkpoint()
            self._advance()

    def seal(self) -> int | None:
        with self._lock:
            log = self._checkpoint()
            self._advance()
            if not self._news:
                return None
            position, log_hash = self._position, self._segment.hexdigest()
            signed = signature(self.key, self.app.name, position, log_hash)
            log.sealed(position, log_hash, signed)
            try:
                self.app.save(log)
            except IntegrityError:
                return None
        if self.witness is not None:
            self.witness.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.witness.with_suffix(".tmp")
            checkpoint = {"position": position, "log_hash": log_hash, "signature": signed}
            scratch.write_text(json.dumps(checkpoint))
            scratch.replace(self.witness)
        return position

    def _checkpoint(self) -> AuditLog:
        """The latest checkpoint; the segment starts again when it is not the one the
        segment follows (a seal, here or by another replica)."""
        try:
            log = self.app.get(AUDIT_LOG_ID, AuditLog)
        except NotFound:
            log = AuditLog()
        if self._follows != (log.position, log.log_hash):
            self._follows, self._version = (log.position, log.log_hash), log.version
            self._segment, self._position, self._news = LogHash(log.log_hash), log.position, False
        return log

    def _advance(self) -> None:
        assert isinstance(self.app.mapper, ChainingMapper)
        for notification in notifications_after(self.app, self._position):
            self._position = notification.id
            self._segment.add(notification.id, _chain_of(self.app.mapper, notification))
            self.hashed += 1
            if notification.topic != SEALED_TOPIC:
                self._news = True
            elif notification.originator_version > self._version:
                # A seal after the one followed (each segment opens with that one's own
                # event): `advance` starts again from it.
                self._follows = None
