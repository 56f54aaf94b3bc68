"""The release state machine as a table: every allowed transition, and a refusal (that
records nothing) for every one that is not."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from changeledger.planning.domain import ReleaseState
from changeledger.runtime.domain import RuleViolated, acting

if TYPE_CHECKING:
    from services.planning.tests.conftest import Planning

S = ReleaseState


def reach(planning: Planning, state: ReleaseState) -> UUID:
    """A fresh release in `state`, through the commands a user would send."""
    app = planning.app
    release = planning.plan()
    rid = release.id
    with acting(planning.RITA):
        if state is S.ON_HOLD:
            app.put_release_on_hold(rid, "waiting")
        elif state is S.CANCELLED:
            app.cancel_release(rid, "dropped")
    if state in (S.PLANNED, S.ON_HOLD, S.CANCELLED):
        return rid
    planning.approve(rid)
    if state is S.APPROVED:
        return rid
    with acting(planning.RITA):
        app.schedule_release(rid, planning.window(40))
        if state is S.SCHEDULED:
            return rid
        app.start_release(rid)
        if state is S.IN_PROGRESS:
            return rid
        app.mark_release_deployed(rid)
        benefit = app.release(rid).benefits[0]
        app.record_actual(rid, benefit.id, Decimal(55), planning.TODAY)
        app.review_benefits(rid, "met")
        if state is S.DEPLOYED:
            return rid
        app.close_release(rid)
    return rid


COMMANDS: dict[str, Callable[[Any, UUID], object]] = {
    "hold": lambda p, r: p.app.put_release_on_hold(r, "why"),
    "resume": lambda p, r: p.app.resume_release(r),
    "cancel": lambda p, r: p.app.cancel_release(r, "why"),
    "schedule": lambda p, r: p.app.schedule_release(r, p.window(50)),
    "start": lambda p, r: p.app.start_release(r),
    "deploy": lambda p, r: p.app.mark_release_deployed(r),
    "close": lambda p, r: p.app.close_release(r),
}

ALLOWED: dict[tuple[str, ReleaseState], ReleaseState] = {
    ("hold", S.PLANNED): S.ON_HOLD,
    ("hold", S.APPROVED): S.ON_HOLD,
    ("hold", S.SCHEDULED): S.ON_HOLD,
    ("resume", S.ON_HOLD): S.PLANNED,  # back to where it was put on hold
    ("schedule", S.APPROVED): S.SCHEDULED,
    ("schedule", S.SCHEDULED): S.SCHEDULED,  # moved to another window
    ("start", S.SCHEDULED): S.IN_PROGRESS,
    ("deploy", S.IN_PROGRESS): S.DEPLOYED,
    ("close", S.DEPLOYED): S.CLOSED,
    **{
        ("cancel", s): S.CANCELLED
        for s in (S.PLANNED, S.APPROVED, S.SCHEDULED, S.IN_PROGRESS, S.ON_HOLD)
    },
}

TABLE = [(command, state) for command in COMMANDS for state in ReleaseState]


@pytest.mark.parametrize(("command", "state"), TABLE, ids=[f"{c}-{s.value}" for c, s in TABLE])
def test_release_transition(planning: Planning, command: str, state: ReleaseState) -> None:
    release_id = reach(planning, state)
    before = planning.head()
    with acting(planning.RITA):
        if (command, state) in ALLOWED:
            COMMANDS[command](planning, release_id)
            assert planning.app.release(release_id).state is ALLOWED[(command, state)]
            assert planning.head() > before
        else:
            with pytest.raises(RuleViolated) as refused:
                COMMANDS[command](planning, release_id)
            assert refused.value.rule == "release-state"
            assert planning.head() == before
            assert planning.app.release(release_id).state is state


def test_a_release_on_hold_resumes_where_it_was(planning: Planning) -> None:
    release_id = reach(planning, S.SCHEDULED)
    with acting(planning.RITA):
        planning.app.put_release_on_hold(release_id, "audit")
        assert planning.app.resume_release(release_id).state is S.SCHEDULED
