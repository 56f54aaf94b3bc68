"""An aggregate folded with `mutator` is the aggregate the library's `mutate` gives, event
by event; events and aggregates that change how `mutate` works are left to it, and an
event that does not follow fails with the library's errors."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.domain import (
    Aggregate,
    CanMutateAggregate,
    OriginatorIDError,
    OriginatorVersionError,
    event,
)

from changeledger.runtime.mutation import mutator


class Account(Aggregate):
    @event("Opened")
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.balance = 0
        self.notes: list[str] = []

    @event("Deposited")
    def deposit(self, amount: int, note: str = "") -> None:
        self.balance += amount
        self.notes.append(note)

    @event("Frozen")
    def freeze(self) -> None:
        self.frozen = True

    class Audited(Aggregate.Event):
        auditor: str

        def apply(self, aggregate: Any) -> None:  # also applied, after the method
            aggregate.audits = getattr(aggregate, "audits", 0) + 1

    @event(Audited)
    def audit(self, auditor: str) -> None:
        self.auditor = auditor

    class Renamed(Aggregate.Event):
        owner: str

        def apply(self, aggregate: Any) -> None:  # not decorated: applied by itself
            aggregate.owner = self.owner


class CountedAccount(Account):
    """Counts each change of its version, which the library's `mutate` makes."""

    @property
    def version(self) -> int:
        return self._version

    @version.setter
    def version(self, version: int) -> None:
        self._version = version
        self.changes = getattr(self, "changes", 0) + 1


def history(cls: type[Account]) -> list[Any]:
    account = cls("ann")
    account.deposit(10, note="first")
    account.deposit(5)
    account.freeze()
    account.audit("ivy")
    account.trigger_event(Account.Renamed, owner="bob")
    return list(account.collect_events())


@pytest.mark.parametrize("cls", [Account, CountedAccount])
def test_each_event_mutates_its_aggregate_as_the_library_does(cls: type[Account]) -> None:
    theirs: Any = None
    ours: Any = None
    for domain_event in history(cls):
        theirs = domain_event.mutate(theirs)
        ours = mutator(type(domain_event))(domain_event, ours)
        assert vars(ours) == vars(theirs)
    assert (ours.owner, ours.balance, ours.notes, ours.version) == ("bob", 15, ["first", ""], 6)
    assert ours.audits == 1
    assert getattr(ours, "changes", 5) == 5


def test_events_that_mutate_their_own_way_are_mutated_by_the_library() -> None:
    events = {type(e).__name__: type(e) for e in history(Account)}
    assert mutator(events["Deposited"]) is not CanMutateAggregate.mutate
    for own_way in ("Opened", "Audited", "Renamed"):
        assert mutator(events[own_way]) is events[own_way].mutate


def test_an_event_that_does_not_follow_fails_as_in_the_library() -> None:
    opened, deposited, *_ = history(Account)
    mutate = mutator(type(deposited))
    with pytest.raises(OriginatorVersionError):
        mutate(deposited, mutate(deposited, opened.mutate(None)))
    other = Account("cy")
    with pytest.raises(OriginatorIDError):
        mutate(deposited, other)
    assert (other.version, other.balance) == (1, 0)
