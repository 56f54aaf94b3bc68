"""The log hash a checkpoint signs, computed as verification streams the log."""

from __future__ import annotations

import hashlib

import pytest

from changeledger.runtime import audit
from changeledger.runtime.audit import LogHash, Segment
from changeledger.runtime.chain import GENESIS


def whole(previous: str, entries: list[tuple[int, str]]) -> str:
    text = previous + "".join(f"\n{position}:{chain}" for position, chain in entries)
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_streamed_hash_is_the_hash_of_the_whole_segment() -> None:
    entries = [(position, f"{position:064x}") for position in range(1, 50)]
    streamed = LogHash(GENESIS)
    for position, chain in entries:
        streamed.add(position, chain)
    assert streamed.hexdigest() == whole(GENESIS, entries)


def test_events_after_the_sealed_position_start_the_next_segment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit, "_RECENT", 3)
    entries = [(position, f"{position:064x}") for position in range(1, 11)]
    segment = Segment()
    for position, chain in entries[:8]:
        segment.add(position, chain)
    # Sealed up to 6; its checkpoint event comes after 7 and 8.
    sealed = segment.hash_up_to(6)
    assert sealed == whole(GENESIS, entries[:6])
    segment.begin_after(sealed)
    assert segment.events == 2
    for position, chain in entries[8:]:
        segment.add(position, chain)
    assert segment.hash_up_to(10) == whole(sealed, entries[6:])


def test_a_checkpoint_recorded_long_after_what_it_seals_cannot_be_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit, "_RECENT", 3)
    segment = Segment()
    for position in range(1, 11):
        segment.add(position, f"{position:064x}")
    assert segment.hash_up_to(5) is None
