"""The chain heads a save computes stay with that save, whichever thread it shares."""

from __future__ import annotations

from contextvars import copy_context
from uuid import uuid4

from changeledger.runtime.chain import GENESIS, ChainHeads


def test_a_save_in_progress_keeps_its_hashes_to_itself() -> None:
    # Two commands on the event loop share its thread: each runs in its own context.
    heads = ChainHeads()
    release = uuid4()
    first, second = copy_context(), copy_context()
    first.run(heads.begin)
    first.run(heads.note, release, 1, "hash of v1")
    second.run(heads.begin)
    second.run(heads.rollback)
    first.run(heads.commit)

    assert heads.previous(release, 2) == "hash of v1"


def test_a_failed_save_leaves_no_head_behind() -> None:
    heads = ChainHeads()
    release = uuid4()
    heads.begin()
    heads.note(release, 1, "hash of v1")
    assert heads.previous(release, 2) == "hash of v1"  # the save's own later events
    heads.rollback()

    assert heads.previous(release, 2) == GENESIS
