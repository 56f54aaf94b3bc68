"""Events published by the risk service on `risk.events`."""

from __future__ import annotations

from uuid import UUID

from changeledger.contracts.registry import IntegrationEvent, event_type


@event_type("risk.register.opened", version=1)
class RiskRegisterOpened(IntegrationEvent):
    """A release's risk register was opened."""

    register_id: UUID
    release_id: UUID


@event_type("risk.exposure.changed", version=1)
class RiskExposureChanged(IntegrationEvent):
    """A release's risk exposure, as it stands after a change to its register."""

    release_id: UUID
    open_risks: int
    open_issues: int
    highest_score: int
    unaccepted_critical: int
    #: Grows with every change to the register: a subscriber keeps the highest it has seen
    #: and ignores older reports that arrive late.
    register_version: int | None = None
