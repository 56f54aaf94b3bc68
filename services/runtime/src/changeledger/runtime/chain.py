"""Tamper evidence: every stored event is chained to the one before it.

Each event of an aggregate carries `_chain`, a SHA-256 over the hash of the aggregate's
previous event and the event itself (its topic, aggregate id, version and the exact JSON
that is stored). The hash is written into the stored JSON as its last member, and covers
every stored byte before it, so verifying needs no re-encoding and no copying.

Snapshots are not chained: they are a cache, and are rebuilt from the events.

The chain is unkeyed (anyone can recompute it); what a forger cannot recompute is the
service's signed checkpoint of its whole log (`audit.py`), which covers these hashes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from eventsourcing.domain import CanSnapshotAggregate
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

GENESIS = "0" * 64
_MEMBER = b'"_chain":"'
_TAIL = len(_MEMBER) + 64 + 2  # "_chain":"<64 hex digits>"}


def opening(body: bytes) -> bytes:
    """The stored bytes that come before the chain member: `body` (a JSON object) open
    for one more member."""
    return body[:-1] if body == b"{}" else body[:-1] + b","


def link(
    previous: str,
    topic: str,
    originator_id: UUID | str,
    version: int,
    opened: bytes | memoryview,
) -> str:
    digest = hashlib.sha256(f"{previous}\n{topic}\n{originator_id}\n{version}\n".encode())
    digest.update(opened)
    return digest.hexdigest()


def seal(opened: bytes, chain: str) -> bytes:
    """The stored state: the opened body with `"_chain": chain` as its last member."""
    return opened + _MEMBER + chain.encode() + b'"}'


def split(state: bytes) -> tuple[memoryview, str] | None:
    """The opened body (what the chain hash covers, without copying it) and the chain hash
    of a stored (decrypted, decompressed) state; None if it carries no chain."""
    tail = state[-_TAIL:]
    chain = tail[len(_MEMBER) : -2]
    if not (tail.startswith(_MEMBER) and tail.endswith(b'"}') and chain.isalnum()):
        return None
    return memoryview(state)[:-_TAIL], chain.decode()


def closed(opened: bytes | memoryview) -> bytes:
    """The event's JSON without its chain member."""
    text = bytes(opened)
    return text[:-1] + b"}" if text.endswith(b",") else text + b"}"


class ChainHeads:
    """The hash of each aggregate's latest stored event, remembered for the next save.
    Hashes computed during a save become heads only once it is recorded, so a save that
    failed (a conflict, say) leaves nothing behind."""

    def __init__(self, size: int = 10_000) -> None:
        self._heads: OrderedDict[UUID, tuple[int, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        # The save in progress's hashes: per command, which may share its thread with
        # others (commands on the event loop), so in its context rather than its thread.
        self._pending: ContextVar[dict[UUID, tuple[int, str]] | None] = ContextVar(
            f"chain_heads_{id(self)}", default=None
        )
        #: Reads an aggregate's stored event at a version (set by the application).
        self.read: Callable[[UUID, int], str | None] = lambda _id, _version: None

    def begin(self) -> None:
        self._pending.set({})

    def commit(self) -> None:
        pending = self._pending.get() or {}
        with self._lock:
            for originator_id, head in pending.items():
                self._heads[originator_id] = head
                self._heads.move_to_end(originator_id)
            while len(self._heads) > self._size:
                self._heads.popitem(last=False)
        self._pending.set(None)

    def rollback(self) -> None:
        self._pending.set(None)

    def previous(self, originator_id: UUID, version: int) -> str:
        if version <= 1:
            return GENESIS
        for heads in (self._pending.get() or {}, self._heads):
            head = heads.get(originator_id)
            if head is not None and head[0] == version - 1:
                return head[1]
        stored = self.read(originator_id, version - 1)
        return stored if stored is not None else GENESIS

    def note(self, originator_id: UUID, version: int, chain: str) -> None:
        pending = self._pending.get()
        if pending is None:
            pending = {}
            self._pending.set(pending)
        pending[originator_id] = (version, chain)


class ChainingMapper(Mapper[UUID]):
    def __init__(self, base: Mapper[UUID], heads: ChainHeads) -> None:
        super().__init__(base.transcoder, base.compressor, base.cipher)
        self.heads = heads

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if isinstance(domain_event, CanSnapshotAggregate):
            return super().to_stored_event(domain_event)
        topic = get_topic(domain_event.__class__)
        state = dict(vars(domain_event))
        state.pop("_chain", None)
        originator_id = state.pop("originator_id")
        version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        opened = opening(self.transcoder.encode(state))
        chain = link(
            self.heads.previous(originator_id, version), topic, originator_id, version, opened
        )
        self.heads.note(originator_id, version, chain)
        stored = seal(opened, chain)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return StoredEvent(
            originator_id=originator_id, originator_version=version, topic=topic, state=stored
        )

    def plain(self, stored: StoredEvent) -> bytes:
        """The stored state as JSON bytes (decrypted and decompressed)."""
        return self.plain_state(stored.state)

    def plain_state(self, state: bytes) -> bytes:
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state
