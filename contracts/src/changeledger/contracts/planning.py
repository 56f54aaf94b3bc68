"""Events published by the planning service on `planning.events`.

Each carries what a subscriber needs without calling back: the authorisation of a change,
for instance, carries the CIs it covers and its window.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from changeledger.contracts.registry import IntegrationEvent, event_type

Priority = Literal["critical", "high", "medium", "low"]
Level = Literal["low", "medium", "high"]
ChangeType = Literal["standard", "normal", "emergency"]


class Window(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    start: AwareDatetime
    end: AwareDatetime


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    amount: Decimal
    currency: str


# Releases


@event_type("planning.release.planned", version=1)
class ReleasePlanned(IntegrationEvent):
    """A release was planned for a target window."""

    release_id: UUID
    name: str
    owner: str
    priority: Priority
    target_start: date
    target_end: date


@event_type("planning.release.scheduled", version=1)
class ReleaseScheduled(IntegrationEvent):
    """A deployment window was booked for the release; `cis` are the CIs it touches."""

    release_id: UUID
    window: Window
    cis: list[str]


@event_type("planning.release.on_hold", version=1)
class ReleasePutOnHold(IntegrationEvent):
    release_id: UUID
    reason: str


@event_type("planning.release.resumed", version=1)
class ReleaseResumed(IntegrationEvent):
    release_id: UUID


@event_type("planning.release.cancelled", version=1)
class ReleaseCancelled(IntegrationEvent):
    release_id: UUID
    reason: str


@event_type("planning.release.started", version=1)
class ReleaseStarted(IntegrationEvent):
    release_id: UUID


@event_type("planning.release.deployed", version=1)
class ReleaseDeployed(IntegrationEvent):
    release_id: UUID


@event_type("planning.release.closed", version=1)
class ReleaseClosed(IntegrationEvent):
    release_id: UUID


@event_type("planning.release.scope_changed", version=1)
class ReleaseScopeChanged(IntegrationEvent):
    """A work item was added, removed or moved; `change_id` is the authorising change."""

    release_id: UUID
    action: Literal["added", "removed", "moved"]
    item_id: UUID
    title: str | None = None
    position: int | None = None
    change_id: UUID | None = None


@event_type("planning.release.ci_version_planned", version=1)
class ReleaseCiVersionPlanned(IntegrationEvent):
    """Once the release is deployed, `ci` is at `ci_version` (the CMDB applies it then)."""

    release_id: UUID
    ci: str
    ci_version: str


@event_type("planning.release.resources_allocated", version=1)
class ReleaseResourcesAllocated(IntegrationEvent):
    release_id: UUID
    allocation_id: UUID
    person: str
    role: str
    effort_days: Decimal
    period_start: date
    period_end: date


@event_type("planning.release.budget_allocated", version=1)
class ReleaseBudgetAllocated(IntegrationEvent):
    release_id: UUID
    amount: Money


@event_type("planning.release.benefits_assessed", version=1)
class ReleaseBenefitsAssessed(IntegrationEvent):
    release_id: UUID
    assessor: str
    outcome: Literal["approved", "rejected"]
    reason: str


@event_type("planning.release.benefits_realised", version=1)
class ReleaseBenefitsRealised(IntegrationEvent):
    release_id: UUID
    benefit_id: UUID
    actual: Decimal
    measured_on: date


# Change requests


@event_type("planning.change.raised", version=1)
class ChangeRaised(IntegrationEvent):
    change_id: UUID
    type: ChangeType
    category: Literal["technical", "business-requirement"]
    title: str
    affected_cis: list[str]
    target_release_id: UUID | None
    impact: Level
    urgency: Level
    requested_by: str


@event_type("planning.change.assessed", version=1)
class ChangeAssessed(IntegrationEvent):
    change_id: UUID
    assessor: str
    risk: Level
    notes: str


@event_type("planning.change.authorised", version=1)
class ChangeAuthorised(IntegrationEvent):
    """The change may be carried out on `ci_scope` in `window`; only these may be written
    to the CMDB under it."""

    change_id: UUID
    decided_by: str
    decided_at: AwareDatetime
    reason: str
    ci_scope: list[str]
    window: Window


@event_type("planning.change.rejected", version=1)
class ChangeRejected(IntegrationEvent):
    change_id: UUID
    decided_by: str
    reason: str


@event_type("planning.change.scheduled", version=1)
class ChangeScheduled(IntegrationEvent):
    change_id: UUID
    window: Window


@event_type("planning.change.implementing", version=1)
class ChangeImplementing(IntegrationEvent):
    change_id: UUID


@event_type("planning.change.reviewed", version=1)
class ChangeReviewed(IntegrationEvent):
    change_id: UUID
    outcome: Literal["successful", "failed", "backed-out"]
    notes: str


@event_type("planning.change.closed", version=1)
class ChangeClosed(IntegrationEvent):
    change_id: UUID


@event_type("planning.change.cancelled", version=1)
class ChangeCancelled(IntegrationEvent):
    change_id: UUID
    reason: str


# Freeze windows


@event_type("planning.freeze_window.created", version=1)
class FreezeWindowCreated(IntegrationEvent):
    freeze_window_id: UUID
    name: str
    window: Window
    reason: str


__all__ = [
    "ChangeAssessed",
    "ChangeAuthorised",
    "ChangeCancelled",
    "ChangeClosed",
    "ChangeImplementing",
    "ChangeRaised",
    "ChangeRejected",
    "ChangeReviewed",
    "ChangeScheduled",
    "FreezeWindowCreated",
    "ReleaseBenefitsAssessed",
    "ReleaseBenefitsRealised",
    "ReleaseBudgetAllocated",
    "ReleaseCancelled",
    "ReleaseCiVersionPlanned",
    "ReleaseClosed",
    "ReleaseDeployed",
    "ReleasePlanned",
    "ReleasePutOnHold",
    "ReleaseResourcesAllocated",
    "ReleaseResumed",
    "ReleaseScheduled",
    "ReleaseScopeChanged",
    "ReleaseStarted",
]
