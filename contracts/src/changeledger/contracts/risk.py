"""Events published by the risk service on `risk.events`."""

from __future__ import annotations

from uuid import UUID

from changeledger.contracts.registry import IntegrationEvent, event_type


@event_type("risk.register.opened", version=1)
class RiskRegisterOpened(IntegrationEvent):
    """A release's risk register was opened."""

    register_id: UUID
    release_id: UUID
