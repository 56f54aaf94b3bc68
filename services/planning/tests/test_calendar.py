"""Freeze windows and clashes between releases, and the reports across releases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from changeledger.planning.domain import ChangeType, Period, Window
from changeledger.runtime.domain import DomainError, acting

if TYPE_CHECKING:
    from services.planning.tests.conftest import Planning


def approved(planning: Planning, name: str, cis: tuple[str, ...]) -> UUID:
    """An approved release whose authorised change touches `cis`."""
    rid = planning.plan(name).id
    planning.approve(rid)
    planning.authorised_change(rid, cis)
    return rid


def refused_with(planning: Planning, rule: str, command: Any, by: Any = None) -> DomainError:
    before = planning.head()
    with acting(by or planning.RITA), pytest.raises(DomainError) as error:
        command()
    assert error.value.rule == rule
    assert planning.head() == before
    return error.value


def test_nothing_but_an_emergency_change_is_scheduled_into_a_freeze(planning: Planning) -> None:
    app = planning.app
    freeze_window = planning.window(60, hours=72)
    with acting(planning.CARL):
        freeze = app.declare_freeze("Year end", freeze_window, "trading peak")
    inside = Window(
        freeze_window.start + timedelta(hours=1), freeze_window.start + timedelta(hours=3)
    )

    rid = approved(planning, "R", ("ci-app",))
    error = refused_with(planning, "freeze-window", lambda: app.schedule_release(rid, inside))
    assert error.extra["freeze_window_id"] == str(freeze.id)

    standard = planning.change(ChangeType.STANDARD)
    refused_with(planning, "freeze-window", lambda: app.schedule_change(standard.id, inside))

    normal = planning.change(ChangeType.NORMAL)
    with acting(planning.RITA):
        app.submit_change(normal.id)
    with acting(planning.CARL):
        app.assess_change(normal.id, planning.app.change(normal.id).impact, "ok")
    refused_with(
        planning,
        "freeze-window",
        lambda: app.authorise_change(normal.id, "go", inside),
        by=planning.CARL,
    )

    emergency = planning.change(ChangeType.EMERGENCY)
    with acting(planning.RITA):
        app.submit_change(emergency.id)
    with acting(planning.CARL):
        assert app.authorise_change(emergency.id, "outage", inside).window == inside


def test_two_releases_on_the_same_ci_cannot_overlap(planning: Planning) -> None:
    app = planning.app
    first = approved(planning, "First", ("ci-db", "ci-app"))
    second = approved(planning, "Second", ("ci-db",))
    third = approved(planning, "Third", ("ci-web",))
    slot = planning.window(45, hours=6)
    overlapping = Window(slot.start + timedelta(hours=2), slot.end + timedelta(hours=2))
    with acting(planning.RITA):
        app.schedule_release(first, slot)
    error = refused_with(
        planning, "release-conflict", lambda: app.schedule_release(second, overlapping)
    )
    assert error.extra == {"conflicting_release_id": str(first), "shared_cis": ["ci-db"]}
    with acting(planning.RITA):
        app.schedule_release(third, overlapping)  # other CIs: no clash
        app.schedule_release(second, planning.window(46))  # another day: no clash
        # Once the first is cancelled, its window is free again.
        app.cancel_release(first, "descoped")
        assert app.schedule_release(second, overlapping).window == overlapping


def test_the_calendar_lists_a_period(planning: Planning) -> None:
    app = planning.app
    rid = approved(planning, "Calendar", ("ci-app",))
    with acting(planning.RITA):
        app.schedule_release(rid, planning.window(40))
    with acting(planning.CARL):
        app.declare_freeze("Freeze", planning.window(100, hours=48), "peak")
    period = Period(planning.TODAY, planning.TODAY + timedelta(days=120))
    entries = app.portfolio.query(lambda p: p.calendar(period))
    assert [r.name for r in entries.releases] == ["Calendar"]
    assert [f.name for f in entries.freezes] == ["Freeze"]
    assert len(entries.changes) == 1  # the authorised change, with its window
    by_owner = app.portfolio.query(lambda p: p.calendar(period, owner="nobody"))
    assert by_owner.releases == []


def test_people_allocated_beyond_capacity_are_flagged(planning: Planning) -> None:
    app = planning.app
    start = planning.AHEAD.start - timedelta(days=planning.AHEAD.start.weekday())  # a Monday
    week = Period(start, start + timedelta(days=4))
    a, b = planning.plan("A").id, planning.plan("B").id
    with acting(planning.RITA):
        app.allocate_resources(a, "ann", "dev", Decimal(3), week)
        app.allocate_resources(b, "ann", "dev", Decimal(3), week)
        app.allocate_resources(b, "bob", "ops", Decimal(5), week)
    loads = {load.person: load for load in app.portfolio.query(lambda p: p.loads(week))}
    assert loads["ann"].allocated_days == Decimal(6)
    assert loads["ann"].capacity_days == 5
    assert loads["ann"].overallocated
    assert not loads["bob"].overallocated
    # Half of that week: half the effort, half the capacity.
    monday_to_wednesday = Period(week.start, week.start + timedelta(days=2))
    loads = {
        load.person: load for load in app.portfolio.query(lambda p: p.loads(monday_to_wednesday))
    }
    assert loads["ann"].allocated_days == Decimal("3.60")
    assert loads["ann"].capacity_days == 3


def test_benefits_realised_against_targeted(planning: Planning) -> None:
    app = planning.app
    rid = planning.plan("Realised").id
    planning.approve(rid)  # 100 tickets a week, target 60
    with acting(planning.RITA):
        app.schedule_release(rid, planning.window(40))
        app.start_release(rid)
        release = app.mark_release_deployed(rid)
        app.record_actual(rid, release.benefits[0].id, Decimal(70), planning.TODAY)
    [realised] = app.portfolio.query(lambda p: p.realisations())
    assert realised.actual == Decimal(70)
    assert realised.realised_percent == Decimal("75.0")


def test_a_change_that_would_make_a_scheduled_release_clash_is_refused(
    planning: Planning,
) -> None:
    app = planning.app
    first = approved(planning, "First", ("ci-db",))
    second = approved(planning, "Second", ("ci-web",))
    slot = planning.window(45, hours=6)
    with acting(planning.RITA):
        app.schedule_release(first, slot)
        app.schedule_release(second, slot)  # other CIs: no clash yet
    error = refused_with(
        planning, "release-conflict", lambda: planning.change(cis=("ci-db",), release_id=second)
    )
    assert error.extra["conflicting_release_id"] == str(first)
    planning.change(cis=("ci-cache",), release_id=second)  # a CI nobody else touches
