"""Saves by other workers on one SQLite store reach the leading relay as datagrams."""

import asyncio
import multiprocessing
import sys
from contextlib import closing
from pathlib import Path

import pytest

from changeledger.runtime.wakeups import SocketWakeups

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the abstract socket namespace is Linux's"
)


def _announce_from_another_process(store: Path) -> None:
    with closing(SocketWakeups(store)) as wakeups:
        wakeups.announce()


async def test_a_save_announced_by_another_process_wakes_the_listener(tmp_path: Path) -> None:
    store = tmp_path / "planning.sqlite"
    woken = asyncio.Event()
    with closing(SocketWakeups(store)) as wakeups:
        async with wakeups.listening(woken.set) as listening:
            assert listening
            process = multiprocessing.get_context("spawn").Process(
                target=_announce_from_another_process, args=(store,)
            )
            process.start()
            await asyncio.to_thread(process.join)
            await asyncio.wait_for(woken.wait(), 10)


async def test_announcing_with_nobody_listening_neither_blocks_nor_fails(tmp_path: Path) -> None:
    with closing(SocketWakeups(tmp_path / "planning.sqlite")) as wakeups:
        for _ in range(1_000):  # refused: nobody listens
            wakeups.announce()
        woken = asyncio.Event()
        async with wakeups.listening(woken.set):
            for _ in range(10_000):  # more than the listener's queue holds
                wakeups.announce()
            await asyncio.wait_for(woken.wait(), 10)


async def test_one_process_listens_for_a_store_and_other_stores_are_apart(
    tmp_path: Path,
) -> None:
    first, second = asyncio.Event(), asyncio.Event()
    planning, risk = tmp_path / "planning.sqlite", tmp_path / "risk.sqlite"
    with (
        closing(SocketWakeups(planning)) as leader,
        closing(SocketWakeups(planning)) as follower,
        closing(SocketWakeups(risk)) as elsewhere,
    ):
        async with leader.listening(first.set) as listening:
            assert listening
            async with follower.listening(second.set) as also:
                assert not also, "a second listener on one store"
            async with elsewhere.listening(second.set) as other:
                assert other
                follower.announce()
                await asyncio.wait_for(first.wait(), 10)
                await asyncio.sleep(0.05)
                assert not second.is_set(), "another store's listener was woken"
