"""Planning's domain: releases planned months ahead.

The foundation holds only what the walking skeleton needs; the planning issue grows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from uuid import UUID

from eventsourcing.domain import event

from changeledger.runtime.domain import Aggregate, InvalidValue


class Priority(Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class TargetWindow:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidValue("a target window cannot end before it starts", rule="window-order")


class Release(Aggregate):
    class Planned(Aggregate.Created):
        name: str
        owner: str
        priority: Priority
        target: TargetWindow

    @event(Planned)
    def __init__(self, name: str, owner: str, priority: Priority, target: TargetWindow) -> None:
        self.name = name
        self.owner = owner
        self.priority = priority
        self.target = target
        self.state = "Planned"
        self.risk_register_id: UUID | None = None

    class RiskRegisterOpened(Aggregate.Event):
        register_id: UUID

    def note_risk_register(self, register_id: UUID) -> None:
        """Record that the risk service opened this release's register (once)."""
        if self.risk_register_id != register_id:
            self._risk_register_opened(register_id)

    @event(RiskRegisterOpened)
    def _risk_register_opened(self, register_id: UUID) -> None:
        self.risk_register_id = register_id
