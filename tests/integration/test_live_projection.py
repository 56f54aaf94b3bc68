"""A live view on the real stores: it takes in this process's saves as they commit, and
other processes' saves at its next query, each event once and in the order of the log
(SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Priority, Release
from changeledger.runtime.domain import acting
from changeledger.runtime.on_loop import run_on_loop
from changeledger.runtime.projection import LiveProjection, Projection
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.stores import lose_a_conflict, opened


class Planned(Projection):
    """Every release planned, once per event folded."""

    topics = (Release.Planned,)

    def __init__(self) -> None:
        self.names: list[str] = []

    def apply(self, event: Any) -> None:
        self.names.append(event.name)


def plan(app: PlanningApplication, name: str) -> None:
    with acting(RELEASE_MANAGER):
        app.plan_release(name, "rita", Priority.LOW, Q1)


def test_a_view_takes_in_this_processs_saves_as_they_commit(store_settings: Settings) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app:
        view = LiveProjection(app, Planned)
        view.query(lambda v: None)
        plan(app, "Spring")
        plan(app, "Summer")

        # No query came in between: the saves themselves brought the view up to date.
        assert view.position == app.process_recorder.max_notification_id()
        assert view.query(lambda v: list(v.names)) == ["Spring", "Summer"]


async def test_a_command_on_the_loop_queries_a_view_in_a_thread(store_settings: Settings) -> None:
    # The first query after a start folds the whole history: not on the event loop.
    with opened(PlanningApplication, "planning", store_settings) as app:
        plan(app, "Spring")
        view = LiveProjection(app, Planned)

        def names_and_thread(v: Planned) -> tuple[list[str], int]:
            return list(v.names), threading.get_ident()

        names, queried_on = await run_on_loop(view.query, names_and_thread)

        assert names == ["Spring"]
        assert queried_on != threading.get_ident()


@contextmanager
def two_processes(
    settings: Settings,
) -> Iterator[tuple[PlanningApplication, PlanningApplication, LiveProjection[Planned]]]:
    """Two openings of one store, as two processes would have, and a view in the first
    that has read the history."""
    with (
        opened(PlanningApplication, "planning", settings) as here,
        opened(PlanningApplication, "planning", settings) as elsewhere,
    ):
        view = LiveProjection(here, Planned)
        view.query(lambda v: None)
        yield here, elsewhere, view


def test_other_processes_saves_are_read_at_the_next_query_each_once_in_log_order(
    store_settings: Settings,
) -> None:
    with two_processes(store_settings) as (here, elsewhere, view):
        plan(here, "A")
        after_a = view.position
        plan(elsewhere, "B")
        plan(here, "C")  # after a save it has not seen: kept until a query reads B
        assert view.position == after_a
        plan(elsewhere, "D")

        assert view.query(lambda v: list(v.names)) == ["A", "B", "C", "D"]
        head = here.process_recorder.max_notification_id()
        assert view.position == head
        plan(here, "E")
        assert view.position > head  # in step with the log again
        assert view.query(lambda v: list(v.names)) == ["A", "B", "C", "D", "E"]


def test_a_view_that_folds_nothing_is_refused(store_settings: Settings) -> None:
    with (
        opened(PlanningApplication, "planning", store_settings) as app,
        pytest.raises(ValueError, match="topics"),
    ):
        LiveProjection(app, Projection)


def rows_read(app: PlanningApplication) -> list[int]:
    """Counts the notifications `app` reads from its store, from now on."""
    counted: list[int] = []
    recorder = app.process_recorder
    select = recorder.select_notifications

    def counting(*args: Any, **kwargs: Any) -> Any:
        found = select(*args, **kwargs)
        counted.append(len(found))
        return found

    recorder.select_notifications = counting  # type: ignore[method-assign]
    return counted


def test_a_query_reads_from_the_store_only_what_this_process_did_not_save(
    store_settings: Settings,
) -> None:
    with two_processes(store_settings) as (here, elsewhere, view):
        plan(here, "A")
        plan(elsewhere, "B")
        for name in ("C", "D", "E"):
            plan(here, name)
        counted = rows_read(here)

        assert view.query(lambda v: list(v.names)) == ["A", "B", "C", "D", "E"]
        assert sum(counted) == 1  # B


def test_ids_that_a_failed_write_used_up_leave_the_view_folding_from_memory(
    store_settings: Settings,
) -> None:
    # PostgreSQL's sequence is not given back by a rolled-back insert: a gap in the log.
    with opened(PlanningApplication, "planning", store_settings) as app:
        view = LiveProjection(app, Planned)
        view.query(lambda v: None)
        plan(app, "Contested")
        with acting(RELEASE_MANAGER):
            contested = next(iter(app.portfolio.query(lambda p: p.all(Release))))
            lose_a_conflict(app, contested.id)
        plan(app, "After the conflict")
        counted = rows_read(app)

        assert view.query(lambda v: list(v.names)) == ["Contested", "After the conflict"]
        assert sum(counted) == 0
        assert view.position == app.process_recorder.max_notification_id()
