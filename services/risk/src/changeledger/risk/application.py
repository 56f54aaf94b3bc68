"""Risk's commands and queries."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from changeledger.risk.domain import RiskRegister, register_id_for
from changeledger.runtime.store import ServiceApplication


class RiskApplication(ServiceApplication):
    name = "risk"
    snapshotted = (RiskRegister,)

    def register_of(self, release_id: UUID, as_of: datetime | None = None) -> RiskRegister:
        return self.get(register_id_for(release_id), RiskRegister, as_of=as_of)

    def has_register(self, release_id: UUID) -> bool:
        return self.contains(register_id_for(release_id))
