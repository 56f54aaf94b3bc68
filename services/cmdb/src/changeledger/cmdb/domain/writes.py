"""The writes made under one change, in the order they were made.

Each change keeps its own record of them in the store, written in the same transaction as
the write itself. It is read when someone asks about the change: held in memory for every
change, it would grow with every write the CMDB ever accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from changeledger.cmdb.domain.values import change_writes_id
from changeledger.runtime.domain import Aggregate


@dataclass(frozen=True)
class Write:
    """One authorised write: when, to which CI, what, by whom, under which release."""

    at: datetime
    ci: str
    what: str
    actor: str
    release_id: UUID | None

    @classmethod
    def of(cls, written: Aggregate, ci: str, change_event: Any) -> Write:
        return cls(
            at=change_event.timestamp,
            ci=ci,
            what=f"{type(written).__name__}.{type(change_event).__name__}",
            actor=change_event.provenance.actor.sub,
            release_id=getattr(change_event, "release_id", None),
        )


class ChangeWrites(Aggregate):
    class Opened(Aggregate.Created):
        change_id: UUID

    class Recorded(Aggregate.Event):
        write: Write

    @staticmethod
    def create_id(change_id: UUID) -> UUID:
        return change_writes_id(change_id)

    @event(Opened)
    def __init__(self, change_id: UUID) -> None:
        self.change_id = change_id
        self.writes: list[Write] = []

    def record(self, write: Write) -> None:
        self._recorded(write)

    @event(Recorded)
    def _recorded(self, write: Write) -> None:
        self.writes.append(write)

    def as_of(self, moment: datetime | None) -> list[Write]:
        """The writes made until `moment` (all of them when None)."""
        return [w for w in self.writes if moment is None or w.at <= moment]
