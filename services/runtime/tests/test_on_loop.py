"""Commands on the event loop: suspended while their write waits, and finished even when
their caller is not waiting any more."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from changeledger.runtime.domain import Actor
from changeledger.runtime.group_commit import GroupCommit
from changeledger.runtime.http import Command
from changeledger.runtime.on_loop import run_on_loop

SAVED = StoredEvent(originator_id=UUID(int=1), originator_version=1, topic="t", state=b"{}")


async def test_a_command_whose_caller_is_cancelled_while_its_write_waits_still_finishes() -> None:
    writing, may_commit = threading.Event(), threading.Event()

    def write(stored: Sequence[StoredEvent]) -> Sequence[int] | None:
        writing.set()
        assert may_commit.wait(10)
        return [1]

    group = GroupCommit(write)
    finished = asyncio.Event()

    def command() -> Any:
        positions = group.insert([SAVED])
        finished.set()  # what a command does after its save (its Idempotency-Key's answer)
        return positions

    run = Command(Actor("alice"), "test", "correlation", "command", on_loop=True).run
    caller = asyncio.ensure_future(run(command))
    assert await asyncio.to_thread(writing.wait, 10)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    may_commit.set()

    await asyncio.wait_for(finished.wait(), 10)
    assert group.wait_written(timeout=5)


async def test_with_no_thread_to_write_it_a_save_from_the_loop_fails_and_leaves_no_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = GroupCommit(lambda stored: [7] * len(stored))
    loop = asyncio.get_running_loop()

    def shut_down(*args: object) -> None:
        raise RuntimeError("cannot schedule new futures after shutdown")

    monkeypatch.setattr(loop, "run_in_executor", shut_down)
    with pytest.raises(RuntimeError, match="after shutdown"):
        await run_on_loop(group.insert, [SAVED])
    assert group.waiting == 0
    assert group.wait_written(timeout=0)

    monkeypatch.undo()
    assert await run_on_loop(group.insert, [SAVED]) == [7]
