"""Events published by the planning service on `planning.events`."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from changeledger.contracts.registry import IntegrationEvent, event_type

Priority = Literal["critical", "high", "medium", "low"]


@event_type("planning.release.planned", version=1)
class ReleasePlanned(IntegrationEvent):
    """A release was planned for a target window."""

    release_id: UUID
    name: str
    owner: str
    priority: Priority
    target_start: date
    target_end: date
