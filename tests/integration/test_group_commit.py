"""Group commit on the real stores: commands saved at the same time share a transaction,
yet each gets its own log positions, and a conflict fails only the command in conflict
(SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)

from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Priority, Release, ReleaseState
from changeledger.runtime.domain import acting
from changeledger.runtime.group_commit import GroupCommit, GroupCommittingEventStore
from changeledger.runtime.on_loop import run_on_loop
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.stores import opened

TODAY = date.today()


def held_until_queued(group: GroupCommit, waiting: int) -> threading.Event:
    """Make the next write wait until `waiting` more saves have queued behind it, so they
    are written as one group (however the threads happen to be scheduled)."""
    write = group.write
    held = threading.Event()

    def first_held(stored: Sequence[StoredEvent]) -> Sequence[int] | None:
        if not held.is_set():
            held.set()
            deadline = time.monotonic() + 10
            while group.waiting < waiting and time.monotonic() < deadline:
                time.sleep(0.005)
        return write(stored)

    group.write = first_held
    return held


def planned(name: str) -> Release:
    return Release.plan(name, "rita", Priority.LOW, Q1, today=TODAY)


def saving(app: PlanningApplication) -> Callable[[Release], Any]:
    def save(release: Release) -> Any:
        with acting(RELEASE_MANAGER):
            return app.save(release)

    return save


def logged(app: PlanningApplication) -> dict[int, tuple[UUID | str, int]]:
    return {
        n.id: (n.originator_id, n.originator_version)
        for n in app.process_recorder.select_notifications(1, 10_000)
    }


def test_concurrent_saves_share_one_transaction_and_each_gets_its_own_positions(
    store_settings: Settings,
) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app:
        assert isinstance(app.events, GroupCommittingEventStore)
        group = app.events.group
        announced: list[list[int]] = []
        app.on_recorded(lambda saved: announced.append([r.notification.id for r in saved]))
        with acting(RELEASE_MANAGER):
            releases = [
                Release.plan(f"R{n}", "rita", Priority.LOW, Q1, today=TODAY) for n in range(6)
            ]
            for release in releases[1:]:
                release.put_on_hold("two events in this save")
        held = held_until_queued(group, waiting=5)
        with ThreadPoolExecutor(6) as pool:
            first = pool.submit(saving(app), releases[0])
            assert held.wait(10)
            rest = list(pool.map(saving(app), releases[1:]))
        recordings = [first.result(), *rest]

        assert (group.writes, group.batches) == (2, 6)
        log = logged(app)
        assert len(log) == 11
        for release, saved in zip(releases, recordings, strict=True):
            assert [log[r.notification.id] for r in saved] == [
                (release.id, version) for version in range(1, release.version + 1)
            ]
        assert {app.release(r.id).state for r in releases[1:]} == {ReleaseState.ON_HOLD}
        # Each save was announced once, as committed, in the order of the log.
        assert sorted(announced) == sorted([r.notification.id for r in s] for s in recordings)
        assert [p for save in announced for p in save] == sorted(log)


def test_a_conflict_in_a_group_fails_only_the_save_in_conflict(store_settings: Settings) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app:
        with acting(RELEASE_MANAGER):
            contested = app.plan_release("Contested", "rita", Priority.HIGH, Q1)
            blocker = planned("Blocker")
            bystander = planned("Bystander")
            mine, theirs = app.release(contested.id), app.release(contested.id)
            mine.put_on_hold("mine")
            theirs.cancel("theirs")
        assert isinstance(app.events, GroupCommittingEventStore)
        group = app.events.group
        writes_before = group.writes
        announced: list[UUID] = []
        app.on_recorded(lambda saved: announced.append(saved[0].domain_event.originator_id))
        held = held_until_queued(group, waiting=3)
        with ThreadPoolExecutor(4) as pool:
            first = pool.submit(saving(app), blocker)
            assert held.wait(10)
            results = [pool.submit(saving(app), r) for r in (mine, theirs, bystander)]
            outcomes = [f.exception(timeout=30) for f in results]

        assert first.result()
        assert outcomes[2] is None
        # Exactly one of the two conflicting saves won; which one is up to the scheduler.
        failed = [type(e) for e in outcomes[:2] if e is not None]
        assert failed == [IntegrityError]
        winner = mine if outcomes[0] is None else theirs
        assert app.release(contested.id).state == winner.state
        assert app.release(bystander.id).version == 1
        # The refused save was never announced as recorded.
        assert sorted(announced) == sorted([blocker.id, contested.id, bystander.id])
        # Written: the blocker alone, then (the group of three having failed) the two
        # saves not in conflict, each alone.
        assert group.writes - writes_before == 1 + 2


@pytest.mark.parametrize("failure", [RuntimeError("store gone"), KeyboardInterrupt()])
def test_a_write_that_fails_for_all_raises_in_every_caller(failure: BaseException) -> None:
    def write(stored: Sequence[StoredEvent]) -> Sequence[int] | None:
        raise failure

    group = GroupCommit(write)
    with pytest.raises(type(failure)):
        group.insert([])
    assert group.waiting == 0
    assert group.writes == 0


@pytest.mark.parametrize(
    "failure",
    [OperationalError("database is locked"), InterfaceError("the connection is lost")],
)
def test_a_store_that_fails_a_group_fails_each_of_its_saves_once(failure: Exception) -> None:
    # Not written again one by one: a lost connection may have committed the group, and
    # each save alone would then conflict with its own events.
    attempts: list[int] = []

    def write(stored: Sequence[StoredEvent]) -> Sequence[int] | None:
        attempts.append(len(stored))
        if len(attempts) > 1:  # the first, held, write goes through
            raise failure
        return list(range(len(stored)))

    group = GroupCommit(write)
    held = held_until_queued(group, waiting=3)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.insert, [stored_event(0)])
        assert held.wait(10)
        rest = [pool.submit(group.insert, [stored_event(n)]) for n in (1, 2, 3)]
        errors = [f.exception(timeout=30) for f in rest]

    assert first.result() == [0]
    assert all(e is failure for e in errors)
    # The three queued saves were tried once, together, not again one by one.
    assert attempts == [1, 3]


def stored_event(n: int) -> StoredEvent:
    return StoredEvent(originator_id=UUID(int=n), originator_version=1, topic="t", state=b"{}")


def test_a_listener_that_fails_neither_undoes_the_save_nor_silences_the_others(
    store_settings: Settings,
) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app:
        heard: list[int] = []

        def failing(saved: Sequence[Any]) -> None:
            raise RuntimeError("a listener's bug")

        app.on_recorded(failing)
        app.on_recorded(lambda saved: heard.extend(r.notification.id for r in saved))
        with acting(RELEASE_MANAGER):
            recordings = app.save(planned("Despite the bug"))

        assert [r.notification.id for r in recordings] == heard
        assert heard
        assert set(logged(app)) == set(heard)


async def on_the_loop_behind_a_held_write(
    group: GroupCommit, saves: Sequence[Callable[[], Any]]
) -> list[Any]:
    """Run `saves` as commands on the event loop: the first one's write waits until the
    others have queued (which they can only do if it left the loop free), and they are
    written as one group. Their results or errors, in order."""
    held = held_until_queued(group, waiting=len(saves) - 1)
    first = asyncio.ensure_future(run_on_loop(saves[0]))
    assert await asyncio.to_thread(held.wait, 10)
    rest = await asyncio.gather(*(run_on_loop(save) for save in saves[1:]), return_exceptions=True)
    done = await asyncio.gather(first, return_exceptions=True)
    return [done[0], *rest]


async def test_saves_from_commands_on_the_loop_are_grouped_without_blocking_it(
    store_settings: Settings,
) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app:
        group = app.group_commit
        with acting(RELEASE_MANAGER):
            releases = [planned(f"R{n}") for n in range(5)]
        ran_on: set[int] = set()

        def save(release: Release) -> Callable[[], Any]:
            def on_the_loop() -> Any:
                ran_on.add(threading.get_ident())
                return saving(app)(release)

            return on_the_loop

        recordings = await on_the_loop_behind_a_held_write(group, [save(r) for r in releases])

        assert ran_on == {threading.get_ident()}
        assert (group.writes, group.batches) == (2, 5)
        log = logged(app)
        for release, saved in zip(releases, recordings, strict=True):
            assert [log[r.notification.id] for r in saved] == [(release.id, 1)]
        assert group.wait_written(timeout=5)


async def test_a_conflict_among_saves_from_the_loop_fails_only_its_command(
    store_settings: Settings,
) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app:
        with acting(RELEASE_MANAGER):
            contested = app.plan_release("Contested", "rita", Priority.HIGH, Q1)
            blocker, bystander = planned("Blocker"), planned("Bystander")
            mine, theirs = app.release(contested.id), app.release(contested.id)
            mine.put_on_hold("mine")
            theirs.cancel("theirs")
        saves = [partial(saving(app), r) for r in (blocker, mine, theirs, bystander)]
        outcomes = await on_the_loop_behind_a_held_write(app.group_commit, saves)

        assert not isinstance(outcomes[0], BaseException)
        assert not isinstance(outcomes[3], BaseException)
        failed = [type(e) for e in outcomes[1:3] if isinstance(e, BaseException)]
        assert failed == [IntegrityError]
        winner = mine if not isinstance(outcomes[1], BaseException) else theirs
        assert app.release(contested.id).state == winner.state


async def test_a_store_failing_a_group_from_the_loop_fails_its_saves_and_writes_on() -> None:
    failure = OperationalError("database is locked")
    attempts: list[int] = []

    def write(stored: Sequence[StoredEvent]) -> Sequence[int] | None:
        attempts.append(len(stored))
        if len(attempts) == 2:
            raise failure
        return list(range(len(stored)))

    group = GroupCommit(write)
    saves = [partial(group.insert, [stored_event(n)]) for n in range(4)]
    outcomes = await on_the_loop_behind_a_held_write(group, saves)

    assert outcomes[0] == [0]
    assert all(outcome is failure for outcome in outcomes[1:])
    # The writing thread goes on with what is queued next.
    assert await run_on_loop(group.insert, [stored_event(9)]) == [0]
    assert attempts == [1, 3, 1]
    assert group.wait_written(timeout=5)


async def test_saves_from_threads_and_from_the_loop_share_a_write() -> None:
    def write(stored: Sequence[StoredEvent]) -> Sequence[int] | None:
        return [UUID(str(s.originator_id)).int for s in stored]

    group = GroupCommit(write)
    held = held_until_queued(group, waiting=2)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(group.insert, [stored_event(1)])
        assert await asyncio.to_thread(held.wait, 10)
        from_the_loop = asyncio.ensure_future(run_on_loop(group.insert, [stored_event(2)]))
        from_a_thread = pool.submit(group.insert, [stored_event(3)])
        # Whichever thread writes the second group wakes the command on the loop.
        assert await asyncio.wait_for(from_the_loop, 10) == [2]
        assert from_a_thread.result(timeout=10) == [3]
    assert first.result() == [1]
    assert (group.writes, group.batches) == (2, 3)
