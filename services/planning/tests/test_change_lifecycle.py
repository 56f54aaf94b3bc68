"""Change requests as tables: for each type, every allowed transition, and a refusal that
records nothing for every one that is not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from changeledger.planning.domain import ChangeState, ChangeType, Level, ReviewOutcome
from changeledger.runtime.domain import DomainError, acting

if TYPE_CHECKING:
    from services.planning.tests.conftest import Planning

C = ChangeState
T = ChangeType

PATHS: dict[ChangeType, list[tuple[str, ChangeState]]] = {
    T.NORMAL: [
        ("submit", C.ASSESS),
        ("assess", C.AUTHORIZE),
        ("authorise", C.SCHEDULED),
        ("implement", C.IMPLEMENT),
        ("complete", C.REVIEW),
        ("close", C.CLOSED),
    ],
    T.EMERGENCY: [
        ("submit", C.AUTHORIZE),
        ("authorise", C.SCHEDULED),
        ("implement", C.IMPLEMENT),
        ("complete", C.REVIEW),
        ("close", C.CLOSED),
    ],
    T.STANDARD: [
        ("schedule", C.SCHEDULED),
        ("implement", C.IMPLEMENT),
        ("complete", C.REVIEW),
        ("close", C.CLOSED),
    ],
}

#: Who sends each command: the change authority decides, the release manager does the rest.
DECIDED = {"assess", "authorise", "reject"}

COMMANDS: dict[str, Callable[[Any, UUID], object]] = {
    "submit": lambda p, c: p.app.submit_change(c),
    "assess": lambda p, c: p.app.assess_change(c, Level.LOW, "low risk"),
    "authorise": lambda p, c: p.app.authorise_change(c, "approved by CAB", p.window(20)),
    "reject": lambda p, c: p.app.reject_change(c, "not now"),
    # Standard changes take any window ahead; authorised ones move within their own.
    "schedule": lambda p, c: p.app.schedule_change(
        c, p.app.change(c).authorised_window or p.window(21)
    ),
    "implement": lambda p, c: p.app.start_change(c),
    "complete": lambda p, c: p.app.complete_change(c, ReviewOutcome.SUCCESSFUL, "fine"),
    "close": lambda p, c: p.app.close_change(c),
    "cancel": lambda p, c: p.app.cancel_change(c, "no longer needed"),
}


def send(planning: Planning, command: str, change_id: UUID) -> object:
    # Once authorised, only the change authority calls a change off.
    scheduled = planning.app.change(change_id).state is C.SCHEDULED
    decides = command in DECIDED or (command == "cancel" and scheduled)
    with acting(planning.CARL if decides else planning.RITA):
        return COMMANDS[command](planning, change_id)


def reachable(type: ChangeType) -> list[ChangeState]:
    states = [C.NEW, *(state for _, state in PATHS[type]), C.CANCELLED]
    if type is not T.STANDARD:
        states.append(C.REJECTED)
    return states


def reach(planning: Planning, type: ChangeType, state: ChangeState) -> UUID:
    change_id = planning.change(type).id
    if state is C.CANCELLED:
        send(planning, "cancel", change_id)
    elif state is C.REJECTED:
        send(planning, PATHS[type][0][0], change_id)  # into Assess or Authorize
        send(planning, "reject", change_id)
    else:
        for command, reached in PATHS[type]:
            if state is C.NEW:
                break
            send(planning, command, change_id)
            if reached is state:
                break
    return change_id


def allowed(type: ChangeType, command: str, state: ChangeState) -> ChangeState | None:
    if command == "cancel" and state in (C.NEW, C.ASSESS, C.AUTHORIZE, C.SCHEDULED):
        return C.CANCELLED
    if command == "reject" and state in (C.ASSESS, C.AUTHORIZE):
        return C.REJECTED
    if command == "schedule" and state is C.SCHEDULED:
        return C.SCHEDULED  # an authorised change moved to another window
    previous = C.NEW
    for step, reached in PATHS[type]:
        if step == command and state is previous:
            return reached
        previous = reached
    return None


TABLE = [(t, c, s) for t in ChangeType for c in COMMANDS for s in reachable(t)]


@pytest.mark.parametrize(
    ("type", "command", "state"), TABLE, ids=[f"{t.value}-{c}-{s.value}" for t, c, s in TABLE]
)
def test_change_transition(
    planning: Planning, type: ChangeType, command: str, state: ChangeState
) -> None:
    change_id = reach(planning, type, state)
    assert planning.app.change(change_id).state is state
    before = planning.head()
    expected = allowed(type, command, state)
    if expected is not None:
        send(planning, command, change_id)
        assert planning.app.change(change_id).state is expected
    else:
        with pytest.raises(DomainError) as refused:
            send(planning, command, change_id)
        assert refused.value.rule in ("change-state", "standard-change-is-pre-authorised")
        assert planning.head() == before
        assert planning.app.change(change_id).state is state


def test_a_standard_change_is_authorised_by_its_model_when_scheduled(planning: Planning) -> None:
    change_id = reach(planning, T.STANDARD, C.SCHEDULED)
    change = planning.app.change(change_id)
    assert change.decision is not None
    assert change.decision.decided_by == "standard-change-model"
    assert change.ci_scope == change.affected_cis


def test_the_raiser_cannot_authorise_their_own_change(planning: Planning) -> None:
    change_id = reach(planning, T.NORMAL, C.AUTHORIZE)
    before = planning.head()
    with acting(planning.RITA), pytest.raises(DomainError) as refused:
        planning.app.authorise_change(change_id, "self-approved", planning.window(20))
    assert (refused.value.rule, refused.value.status) == ("raiser-cannot-authorise", 403)
    assert planning.head() == before


def test_the_authorisation_records_who_when_why_and_its_ci_scope(planning: Planning) -> None:
    change = planning.change(T.NORMAL, cis=("ci-app", "ci-db"))
    send(planning, "submit", change.id)
    send(planning, "assess", change.id)
    with acting(planning.CARL), pytest.raises(DomainError) as refused:
        planning.app.authorise_change(change.id, "ok", planning.window(20), ["ci-web"])
    assert refused.value.rule == "scope-beyond-affected-cis"
    with acting(planning.CARL):
        authorised = planning.app.authorise_change(
            change.id, "CAB 12 May", planning.window(20), ["ci-db"]
        )
    assert authorised.decision is not None
    assert authorised.decision.decided_by == "carl"
    assert authorised.decision.reason == "CAB 12 May"
    assert authorised.decision.decided_at is not None
    assert authorised.ci_scope == ("ci-db",)
    assert authorised.authorised


def test_a_change_names_its_cis_and_a_backout_plan(planning: Planning) -> None:
    with acting(planning.RITA), pytest.raises(DomainError) as refused:
        planning.app.raise_change(
            T.NORMAL, planning.change().category, "t", "", [], None, Level.LOW, Level.LOW, "b", "r"
        )
    assert refused.value.rule == "no-affected-cis"


def test_priority_follows_impact_and_urgency(planning: Planning) -> None:
    change = planning.change()
    assert change.priority == 3  # medium x medium


def test_who_may_call_a_change_off(planning: Planning) -> None:
    change_id = planning.change().id  # raised by rita
    authorised = planning.authorised_change(None)
    before = planning.head()
    with acting(planning.as_("cora", "comms-manager")), pytest.raises(DomainError) as refused:
        planning.app.cancel_change(change_id, "not mine")
    assert refused.value.rule == "not-your-change"
    with acting(planning.RITA), pytest.raises(DomainError) as refused:
        planning.app.cancel_change(authorised.id, "changed my mind")
    assert refused.value.rule == "authorised-change-cancel"
    assert planning.head() == before
    with acting(planning.CARL):
        assert planning.app.cancel_change(authorised.id, "CAB withdrew it").state is C.CANCELLED


def test_an_authorised_change_moves_only_within_its_authorised_window(planning: Planning) -> None:
    change = planning.authorised_change(None)  # authorised for 4 hours, 30 days ahead
    assert change.authorised_window is not None
    inside = type(change.authorised_window)(
        change.authorised_window.start, change.authorised_window.end - timedelta(hours=1)
    )
    before = planning.head()
    with acting(planning.RITA), pytest.raises(DomainError) as refused:
        planning.app.schedule_change(change.id, planning.window(200))
    assert refused.value.rule == "outside-authorised-window"
    assert planning.head() == before
    with acting(planning.RITA):
        assert planning.app.schedule_change(change.id, inside).window == inside


def test_windows_in_the_past_are_refused(planning: Planning) -> None:
    change = planning.change(T.STANDARD)
    with acting(planning.RITA), pytest.raises(DomainError) as refused:
        planning.app.schedule_change(change.id, planning.window(-1))
    assert refused.value.rule == "window-in-past"
