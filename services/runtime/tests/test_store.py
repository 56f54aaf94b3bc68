"""The event store on SQLite and on PostgreSQL: saving, tracking, time travel, snapshots."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError, OperationalError, Tracking

from changeledger.runtime.domain import Actor, Aggregate, NotFound, Provenance, acting
from changeledger.runtime.on_loop import run_on_loop
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication, open_store, store_env
from tests.support.infra import PostgresServer
from tests.support.services import isolated_settings
from tests.support.stores import notifications, opened

CAROL = Provenance(Actor("carol", ("viewer",)), "corr", "test")


class Counter(Aggregate):
    class Started(Aggregate.Created):
        name: str

    @event(Started)
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    class Incremented(Aggregate.Event):
        by: int

    @event(Incremented)
    def increment(self, by: int = 1) -> None:
        self.count += by


class Counters(ServiceApplication):
    snapshotted = (Counter,)

    def start(self, name: str) -> Counter:
        counter = Counter(name=name)
        self.save(counter)
        return counter

    def increment(self, counter_id: UUID, times: int = 1) -> None:
        counter = self.get(counter_id, Counter)
        for _ in range(times):
            counter.increment()
        self.save(counter)


@pytest.fixture
def counters(store_settings: Settings) -> Iterator[Counters]:
    app = open_store(Counters, "counters", store_settings)
    yield app
    app.close()


def test_an_aggregate_is_rebuilt_from_its_events(counters: Counters) -> None:
    with acting(CAROL):
        counter = counters.start("a")
        counters.increment(counter.id, times=3)
    loaded = counters.get(counter.id, Counter)
    assert (loaded.name, loaded.count, loaded.version) == ("a", 3, 4)
    events: list[Any] = list(counters.events.get(counter.id))
    assert [e.provenance.actor.sub for e in events] == ["carol"] * 4


def test_only_commands_on_a_store_read_within_the_process_run_on_the_loop(
    counters: Counters, store_kind: str
) -> None:
    # Reading PostgreSQL is a round trip: a command reading it on the loop would stall it.
    assert counters.commands_on_loop == (store_kind == "sqlite")


def test_an_unknown_or_foreign_aggregate_is_not_found(counters: Counters) -> None:
    with pytest.raises(NotFound):
        counters.get(UUID(int=1), Counter)


def test_time_travel_shows_the_state_at_a_given_moment(counters: Counters) -> None:
    with acting(CAROL):
        counter = counters.start("a")
        counters.increment(counter.id)
        between = datetime.now(UTC)
        counters.increment(counter.id, times=2)
    assert counters.get(counter.id, Counter, as_of=between).count == 1
    assert counters.get(counter.id, Counter).count == 3
    with pytest.raises(NotFound):
        counters.get(counter.id, Counter, as_of=datetime(2000, 1, 1, tzinfo=UTC))


def test_events_and_tracking_are_saved_together_or_not_at_all(counters: Counters) -> None:
    with acting(CAROL):
        first = Counter(name="first")
    counters.save_tracked(first, tracking=Tracking("planning.events:0", 7))
    with acting(CAROL):
        second = Counter(name="second")
    for position in (7, 6):  # the same, or an earlier one
        with pytest.raises(IntegrityError):
            counters.save_tracked(second, tracking=Tracking("planning.events:0", position))
    assert counters.contains(first.id)
    assert not counters.contains(second.id)
    assert counters.process_recorder.max_tracking_id("planning.events:0") == 7


def test_long_histories_are_snapshotted(counters: Counters) -> None:
    with acting(CAROL):
        counter = counters.start("busy")
        counters.increment(counter.id, times=250)
    assert counters.snapshots is not None
    snapshots = list(counters.snapshots.get(counter.id))
    assert [s.originator_version for s in snapshots] == [100, 200]
    assert counters.get(counter.id, Counter).count == 250


async def test_a_command_on_the_loop_takes_its_snapshots_off_the_loop(counters: Counters) -> None:
    # Taking one reads the aggregate's history and writes outside the group commit.
    assert counters.snapshots is not None
    put, written_on = counters.snapshots.put, set()

    def put_from(*args: Any, **kwargs: Any) -> Any:
        written_on.add(threading.get_ident())
        return put(*args, **kwargs)

    counters.snapshots.put = put_from  # type: ignore[method-assign]
    with acting(CAROL):
        counter = counters.start("busy")

        def increment() -> None:
            with acting(CAROL):
                counters.increment(counter.id, times=100)

        await run_on_loop(increment)

    assert [s.originator_version for s in counters.snapshots.get(counter.id)] == [100]
    assert written_on
    assert threading.get_ident() not in written_on


def test_saves_wake_listeners(counters: Counters) -> None:
    woken: list[int] = []
    counters.on_saved(lambda: woken.append(1))
    with acting(CAROL):
        counters.start("a")
    assert woken == [1]


def test_processes_opening_a_fresh_store_together_all_open_it(store_settings: Settings) -> None:
    # Workers and replicas start together; on PostgreSQL they would race to create the
    # schema and its tables.
    openers = 4
    ready = threading.Barrier(openers)

    def open_together() -> Counters:
        ready.wait()
        return open_store(Counters, "together", store_settings)

    with ThreadPoolExecutor(openers) as pool:
        apps = list(pool.map(lambda _: open_together(), range(openers)))
    with acting(CAROL):
        first = apps[0].start("shared")
    assert all(app.get(first.id, Counter).name == "shared" for app in apps)
    for app in apps:
        app.close()


@pytest.mark.parametrize(("pool", "threads", "most"), [(5, 16, 16), (10, 16, 20), (5, 4, 10)])
def test_every_store_thread_can_hold_a_postgres_connection_at_once(
    pool: int, threads: int, most: int
) -> None:
    settings = Settings(store="postgres", postgres_pool_size=pool, store_threads=threads)
    env = store_env("planning", settings)
    assert int(env["POSTGRES_POOL_SIZE"]) + int(env["POSTGRES_MAX_OVERFLOW"]) == most


def test_a_failed_save_leaves_no_transaction_holding_the_log(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A conflict aborts the transaction; a failure before COMMIT was sent leaves it open,
    # with the table lock taken. Neither may outlive the save: the next save needs that
    # lock (and would wait for it until the lock timeout, and fail).
    with opened(Counters, "counters", isolated_settings(tmp_path, None, postgres)) as app:
        recorder: Any = app.recorder
        with acting(CAROL):
            first = app.start("first")
        stale, fresh = app.get(first.id, Counter), app.get(first.id, Counter)
        with acting(CAROL):
            fresh.increment()
            stale.increment()
        app.save(fresh)
        with pytest.raises(IntegrityError):
            app.save(stale)

        def broken(curs: Any) -> None:
            raise RuntimeError("failed half-way")

        monkeypatch.setattr(recorder, "_notify_channel", broken)
        with acting(CAROL), pytest.raises(RuntimeError):
            app.start("lost")
        monkeypatch.undo()
        with acting(CAROL):
            kept = app.start("kept")
        assert app.get(kept.id, Counter).name == "kept"


def _losing_the_reply_once(
    monkeypatch: pytest.MonkeyPatch, recorder: Any, meanwhile: Any = None
) -> list[int]:
    """The next insert's connection fails after its COMMIT was sent (when `meanwhile` is
    None), or before it, while `meanwhile()` writes; each attempt is counted."""
    send, attempts = recorder._send, []

    def flaky(*args: Any) -> list[int]:
        attempts.append(1)
        if len(attempts) == 1:
            if meanwhile is None:
                send(*args)
            else:
                meanwhile()
            raise OperationalError("server closed the connection unexpectedly")
        positions: list[int] = send(*args)
        return positions

    monkeypatch.setattr(recorder, "_send", flaky)
    return attempts


def test_a_save_whose_commit_reply_was_lost_stands_once(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tried again, the insert conflicts with itself. Taken as a conflict, the command
    # would be retried on the new state, and its effect recorded twice.
    with opened(Counters, "counters", isolated_settings(tmp_path, None, postgres)) as app:
        with acting(CAROL):
            counter = app.start("once")
        attempts = _losing_the_reply_once(monkeypatch, app.recorder)
        with acting(CAROL):
            loaded = app.get(counter.id, Counter)
            loaded.increment()
            recordings = app.save(loaded)
        assert len(attempts) == 2
        assert app.get(counter.id, Counter).count == 1
        saved = [n for n in notifications(app) if n.originator_id == counter.id]
        assert [n.originator_version for n in saved] == [1, 2]
        assert [r.notification.id for r in recordings] == [saved[1].id]


def test_a_tracked_save_whose_commit_reply_was_lost_stands_once(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A consumer's save: tried again, its tracking record fails first (the position has
    # moved already), and the events tell that it was this save that moved it.
    with opened(Counters, "counters", isolated_settings(tmp_path, None, postgres)) as app:
        attempts = _losing_the_reply_once(monkeypatch, app.recorder)
        with acting(CAROL):
            counter = Counter(name="handled")
        app.save_tracked(counter, tracking=Tracking("planning.events:0", 7))
        assert len(attempts) == 2
        assert app.process_recorder.max_tracking_id("planning.events:0") == 7
        assert [n.originator_id for n in notifications(app)] == [counter.id]


def test_after_a_lost_connection_a_real_conflict_is_still_one(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process took the version while the first attempt failed: not this save's.
    settings = isolated_settings(tmp_path, None, postgres)
    with (
        opened(Counters, "counters", settings) as app,
        opened(Counters, "counters", settings) as elsewhere,
    ):
        with acting(CAROL):
            counter = app.start("contested")
            mine, theirs = app.get(counter.id, Counter), app.get(counter.id, Counter)
            mine.increment()
            theirs.increment(by=5)
        attempts = _losing_the_reply_once(
            monkeypatch, app.recorder, meanwhile=lambda: elsewhere.save(theirs)
        )
        with pytest.raises(IntegrityError):
            app.save(mine)
        assert len(attempts) == 2
        assert app.get(counter.id, Counter).count == 5
