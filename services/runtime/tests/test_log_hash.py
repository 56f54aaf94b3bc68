"""The log hash a checkpoint signs, computed as verification reads the log in chunks."""

from __future__ import annotations

import hashlib

import pytest

from changeledger.runtime import verification
from changeledger.runtime.audit import LogHash
from changeledger.runtime.chain import GENESIS
from changeledger.runtime.verification import Chunk, Segment

ENTRIES = [(position, f"{position:064x}") for position in range(1, 11)]


def whole(previous: str, entries: list[tuple[int, str]]) -> str:
    text = previous + "".join(f"\n{position}:{chain}" for position, chain in entries)
    return hashlib.sha256(text.encode()).hexdigest()


def chunk(entries: list[tuple[int, str]]) -> Chunk:
    checked = Chunk()
    checked.keep(entries)
    return checked


def test_the_streamed_hash_is_the_hash_of_the_whole_segment() -> None:
    streamed = LogHash(GENESIS)
    for position, chain in ENTRIES:
        streamed.add(position, chain)
    assert streamed.hexdigest() == whole(GENESIS, ENTRIES)


def test_events_after_the_sealed_position_start_the_next_segment() -> None:
    segment = Segment()
    segment.add_run(chunk(ENTRIES[:4]), 4)
    segment.add_run(chunk(ENTRIES[4:8]), 4)
    # Sealed up to 6; its checkpoint event comes after 7 and 8.
    sealed = segment.hash_up_to(6)
    assert sealed == whole(GENESIS, ENTRIES[:6])
    segment.begin_after(sealed)
    assert segment.events == 2
    segment.add_run(chunk(ENTRIES[8:]), 2)
    assert segment.hash_up_to(10) == whole(sealed, ENTRIES[6:])


def test_only_the_first_events_of_a_run_up_to_a_broken_link_are_taken() -> None:
    segment = Segment()
    segment.add_run(chunk(ENTRIES), 3)
    assert segment.events == 3
    assert segment.hash_up_to(10) == whole(GENESIS, ENTRIES[:3])


def test_a_checkpoint_recorded_long_after_what_it_seals_cannot_be_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verification, "_RUNS_KEPT", 1)
    segment = Segment()
    for start in (0, 3, 6):
        segment.add_run(chunk(ENTRIES[start : start + 3]), 3)
    assert segment.hash_up_to(5) is None
    assert segment.hash_up_to(6) is not None
