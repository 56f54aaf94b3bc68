"""Verifying a store's audit trail: every event's chain link, every signed checkpoint,
and the log's length against the witness of its latest checkpoint.

The log is checked in chunks of consecutive positions, each on its own: an event's link
needs only the chain hash of its aggregate's previous event, which is stored in that
event. What crosses chunks is stitched afterwards, in log order: each aggregate's first
event in a chunk must follow its last one before, and each checkpoint must seal the
chain hashes before it. So chunks can be checked in parallel processes (`workers`), and
the answer is the same: the first broken link in log order. Nothing is held for the
whole log but each aggregate's latest hash.
"""

from __future__ import annotations

import hmac
import json
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any
from uuid import UUID

from changeledger.runtime.audit import (
    SEALED_TOPIC,
    LogHash,
    entry,
    signature,
)
from changeledger.runtime.chain import GENESIS, ChainingMapper, closed, link, split
from changeledger.runtime.rawlog import raw_log
from changeledger.runtime.store import ServiceApplication
from changeledger.runtime.workers import worker_app, worker_pool

#: Log positions per chunk.
CHUNK = 100_000
#: Runs of events kept unhashed, for a checkpoint recorded after later events.
_RUNS_KEPT = 2


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
    workers: int = 1,
    chunk: int = CHUNK,
) -> Verification:
    """Read the whole log, checking every event's chain and every signed checkpoint,
    and the log's length against the witness of its latest checkpoint. With `workers`
    above 1, chunks are checked in that many processes, each opening the store."""
    report = Verification(app.name)
    started = time.perf_counter()
    head: int = app.recorder.max_notification_id() or 0
    ranges = [(start, min(start + chunk, head)) for start in range(0, head, chunk)]
    try:
        _stitch(app.name, key, _checked(app, ranges, workers, progress), report)
        if witness is not None and witness.exists():
            _check_witness(app.name, key, json.loads(witness.read_text()), report)
    except Tampered as broken:
        report.broken = str(broken)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class Chunk:
    """What one chunk of the log says, for stitching."""

    events: int = 0
    #: Each aggregate's first event here: version, log position, and the stored chain
    #: hash of its previous version that its link was checked with (None if missing).
    first: dict[str, tuple[int, int, str | None]] = field(default_factory=dict)
    #: Each aggregate's last event here: version and chain hash.
    last: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: The first broken link here: log position and what is wrong.
    broken: tuple[int, str] | None = None
    #: The events' log positions, in order, up to any broken link ...
    positions: array[int] = field(default_factory=lambda: array("q"))
    #: ... what the log hash covers of each (`audit.entry`), joined ...
    entries: bytes = b""
    #: ... and where each one's starts there.
    offsets: array[int] = field(default_factory=lambda: array("q"))
    #: The checkpoints recorded here, by log position: where, and what they say.
    seals: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def keep(self, chains: list[tuple[int, str]]) -> None:
        """The checked events' positions and chain hashes, as a few large objects: for
        the trip back from a worker process, and for hashing."""
        entries = [entry(position, chain) for position, chain in chains]
        self.positions = array("q", (position for position, _ in chains))
        self.offsets = array("q", accumulate(map(len, entries), initial=0))
        self.entries = b"".join(entries)
        self.events = len(entries)


def check_chunk(app: ServiceApplication, after: int, up_to: int) -> Chunk:
    """Check the links of the events at log positions after `after`, up to `up_to`."""
    chunk, chains = Chunk(), list[tuple[int, str]]()
    _check_links(app, chunk, chains, after, up_to)
    chunk.keep(chains)
    return chunk


def _check_links(
    app: ServiceApplication, chunk: Chunk, chains: list[tuple[int, str]], after: int, up_to: int
) -> None:
    """Fill `chunk` and `chains` (each checked event's position and chain hash) until the
    first broken link."""
    mapper = app.mapper
    assert isinstance(mapper, ChainingMapper)
    plain = mapper.plain_state if (mapper.cipher or mapper.compressor) else None
    heads = chunk.last
    for position, originator_id, version, topic, state in raw_log(app, after, up_to):
        try:
            parts = split(plain(state) if plain else state)
        except Exception as error:  # a cipher or compressor refusing altered bytes
            where = _where(originator_id, version, position)
            chunk.broken = (position, f"{where} cannot be read: {error}")
            return
        if parts is None:
            where = _where(originator_id, version, position)
            chunk.broken = (position, f"{where} carries no chain: {_BY_HAND}")
            return
        opened, chain = parts
        head = heads.get(originator_id)
        if head is None:
            # Its previous event is in an earlier chunk (stitching checks that it is).
            previous = GENESIS if version == 1 else _stored_chain(app, originator_id, version)
            chunk.first[originator_id] = (version, position, previous)
        elif version != head[0] + 1:
            chunk.broken = (position, _out_of_order(originator_id, version, position, head[0]))
            return
        else:
            previous = head[1]
        if previous is not None and link(previous, topic, originator_id, version, opened) != chain:
            where = _where(originator_id, version, position)
            chunk.broken = (position, f"{where} does not match its hash: {_ALTERED}")
            return
        heads[originator_id] = (version, chain)
        chains.append((position, chain))
        if topic == SEALED_TOPIC:
            where = _where(originator_id, version, position)
            chunk.seals[position] = (where, json.loads(closed(opened)))


def _stored_chain(app: ServiceApplication, originator_id: str, version: int) -> str | None:
    return app.stored_chain(UUID(originator_id), version - 1)


_BY_HAND = "it was inserted or rewritten by hand"
_ALTERED = "its content was altered"


def _out_of_order(originator_id: str, version: int, position: int, previous: int) -> str:
    return (
        f"{_where(originator_id, version, position)} follows v{previous} of its aggregate: "
        "events were deleted or reordered"
    )


def _checked(
    app: ServiceApplication,
    ranges: list[tuple[int, int]],
    workers: int,
    progress: Callable[[int], None] | None,
) -> Iterator[Chunk]:
    """Each chunk checked, in log order."""
    if workers > 1 and len(ranges) > 1:
        pool = worker_pool(app, workers)
        chunks: Iterator[Chunk] = pool.pool.map(_check_in_worker, ranges)
    else:
        pool, chunks = None, (check_chunk(app, *bounds) for bounds in ranges)
    done = 0
    try:
        for chunk in chunks:
            done += chunk.events
            if progress is not None:
                progress(done)
            yield chunk
    finally:
        if pool is not None:
            pool.stop()


def _check_in_worker(bounds: tuple[int, int]) -> Chunk:
    return check_chunk(worker_app(), *bounds)


def _stitch(service: str, key: bytes, chunks: Iterator[Chunk], report: Verification) -> None:
    """Join the chunks in log order, checking what crosses them; raises Tampered at the
    first broken link."""
    heads: dict[str, tuple[int, str]] = {}
    unsealed = Segment()
    last_position = 0
    for chunk in chunks:
        broken = [chunk.broken] if chunk.broken else []
        for originator_id, (version, position, previous) in chunk.first.items():
            last_version, last_chain = heads.get(originator_id, (0, GENESIS))
            if version != last_version + 1:
                broken.append(
                    (position, _out_of_order(originator_id, version, position, last_version))
                )
            elif previous != last_chain:
                where = _where(originator_id, version, position)
                broken.append((position, f"{where} does not match its hash: {_ALTERED}"))
        first_broken = min(broken) if broken else None
        kept = bisect_left(chunk.positions, first_broken[0]) if first_broken else chunk.events
        if kept:
            unsealed.add_run(chunk, kept)
            last_position = chunk.positions[kept - 1]
        for position in sorted(chunk.seals):
            if position <= last_position:
                where, checkpoint = chunk.seals[position]
                _check_seal(service, key, checkpoint, unsealed, where, report)
        if first_broken is not None:
            raise Tampered(first_broken[1])
        heads.update(chunk.last)
        report.events += chunk.events
    report.aggregates = len(heads)
    if report.sealed_position > last_position:
        raise Tampered(
            f"the log ends at position {last_position}, but was sealed up to "
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
    """The log since the last verified checkpoint, as runs of consecutive events. A run
    is hashed once a checkpoint covers it, or once two newer runs follow it: a
    checkpoint is recorded just after the position it seals, so the events in between
    belong to the next segment."""

    def __init__(self) -> None:
        self.events = 0
        self._hash = LogHash(GENESIS)
        #: Each run's positions, entries and where each entry starts in them.
        self._runs: list[tuple[array[int], memoryview, array[int]]] = []
        self._folded_up_to = 0

    def add_run(self, chunk: Chunk, count: int) -> None:
        """The first `count` events of a chunk."""
        end = chunk.offsets[count]
        run = (chunk.positions[:count], memoryview(chunk.entries)[:end], chunk.offsets[:count])
        self._runs.append(run)
        self.events += count
        if len(self._runs) > _RUNS_KEPT:
            positions, entries, _ = self._runs.pop(0)
            self._hash.add_entries(entries)
            self._folded_up_to = positions[-1]

    def hash_up_to(self, position: int) -> str | None:
        """The segment's hash up to `position`; None when events after it were hashed
        already (a checkpoint recorded long after what it seals: not how they are made)."""
        if self._folded_up_to > position:
            return None
        while self._runs:
            positions, entries, offsets = self._runs[0]
            if positions[-1] <= position:
                self._hash.add_entries(entries)
                self._runs.pop(0)
                continue
            cut = bisect_right(positions, position)
            if cut:
                self._hash.add_entries(entries[: offsets[cut]])
                start = offsets[cut]
                rest = array("q", (offset - start for offset in offsets[cut:]))
                self._runs[0] = (positions[cut:], entries[start:], rest)
            break
        return self._hash.hexdigest()

    def begin_after(self, sealed_hash: str) -> None:
        """Start the next segment, with the events read beyond the checkpoint."""
        self.events = sum(len(positions) for positions, _, _ in self._runs)
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
    """A checkpoint is signed with this service's key, and seals the log as it is."""
    position, sealed_hash = _signed(service, key, state, f"the checkpoint at {where}")
    if unsealed.hash_up_to(position) != sealed_hash:
        raise Tampered(
            f"the log up to position {position} differs from what the checkpoint at "
            f"{where} sealed: events were inserted, deleted or altered before it"
        )
    report.checkpoints += 1
    report.sealed_position = position
    unsealed.begin_after(sealed_hash)
