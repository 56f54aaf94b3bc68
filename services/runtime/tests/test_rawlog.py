"""Reading a store's log as plain rows: in log order, or in shares of its aggregates that
together are the whole log, each in the order of its aggregates and their versions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from changeledger.runtime import rawlog
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.rawlog import RawEvent, Share, latest_snapshots, raw_log, raw_share
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store
from services.runtime.tests.test_store import Counters

CAROL = Provenance(Actor("carol", ("viewer",)), "corr", "test")


@pytest.fixture
def counters(store_settings: Settings) -> Iterator[Counters]:
    app = open_store(Counters, "counters", store_settings)
    with acting(CAROL):
        started = [app.start(f"c{n}") for n in range(20)]
        for counter in started:  # interleaved in the log
            app.increment(counter.id, times=2)
        for counter in reversed(started):
            app.increment(counter.id)
    yield app
    app.close()


def test_the_log_is_read_in_order_and_in_part(counters: Counters) -> None:
    log = list(raw_log(counters))
    assert [row[0] for row in log] == sorted(row[0] for row in log)
    assert len(log) == 80
    assert list(raw_log(counters, after=10, up_to=12)) == log[10:12]


def read(row: RawEvent) -> tuple[Any, ...]:
    """A row with its aggregate id read (a share keeps the database's form of it)."""
    return (row[0], UUID(row[1]), *row[2:])


@pytest.mark.parametrize("of", [1, 2, 3, 7])
def test_shares_of_the_log_are_disjoint_and_cover_it(counters: Counters, of: int) -> None:
    shares = [list(raw_share(counters, Share(number, of))) for number in range(of)]
    everything = sorted(read(row) for share in shares for row in share)
    assert everything == sorted(read(row) for row in raw_log(counters))
    for share in shares:
        assert [(row[1], row[2]) for row in share] == sorted((row[1], row[2]) for row in share)


def test_the_latest_snapshots_are_read_in_batches(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rawlog, "_SNAPSHOT_BATCH", 3)
    app = open_store(
        Counters, "counters", store_settings.model_copy(update={"snapshot_interval": 2})
    )
    try:
        with acting(CAROL):
            started = [app.start(f"c{n}") for n in range(8)]
            for n, counter in enumerate(started[1:]):  # the first has no snapshot
                for _ in range(n + 1):
                    app.increment(counter.id, times=2)
        ids = [counter.id for counter in started]
        latest = latest_snapshots(app, ids)
        assert app.snapshots is not None
        for aggregate_id in ids:
            stored = app.snapshots.recorder.select_events(aggregate_id, desc=True, limit=1)
            expected = [(s.originator_version, s.topic, bytes(s.state)) for s in stored]
            assert ([latest[aggregate_id]] if aggregate_id in latest else []) == expected
        assert sorted(version for version, _, _ in latest.values()) == [2, 4, 6, 8, 10, 12, 14]
    finally:
        app.close()
