import pytest
from eventsourcing.domain import event

from changeledger.runtime.domain import (
    Actor,
    Aggregate,
    MissingProvenance,
    NotFound,
    Provenance,
    RuleViolated,
    acting,
)

ALICE = Provenance(Actor("alice", ("release-manager",)), "corr-1", "plan", "cmd-1")


class Thing(Aggregate):
    class Made(Aggregate.Created):
        name: str

    @event(Made)
    def __init__(self, name: str) -> None:
        self.name = name

    class Renamed(Aggregate.Event):
        name: str

    @event(Renamed)
    def rename(self, name: str) -> None:
        self.name = name


def test_every_event_carries_the_provenance_of_its_command() -> None:
    with acting(ALICE):
        thing = Thing(name="a")
    bob = Provenance(Actor("bob"), "corr-2", "rename", "cmd-2")
    with acting(bob):
        thing.rename("b")
    made, renamed = thing.collect_events()
    assert made.provenance == ALICE  # type: ignore[attr-defined]
    assert renamed.provenance == bob  # type: ignore[attr-defined]


def test_an_event_outside_a_command_is_refused() -> None:
    with pytest.raises(MissingProvenance):
        Thing(name="nobody's")


def test_refusals_name_their_rule_and_status() -> None:
    assert NotFound("gone").rule == "not-found"
    assert NotFound("gone").status == 404
    refused = RuleViolated("no budget before benefits", rule="benefits-first", release="r1")
    assert (refused.status, refused.rule, refused.extra) == (
        409,
        "benefits-first",
        {"release": "r1"},
    )
