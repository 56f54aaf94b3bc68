"""Planning's commands and queries."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from changeledger.planning.domain import Priority, Release, TargetWindow
from changeledger.runtime.store import ServiceApplication


class PlanningApplication(ServiceApplication):
    name = "planning"
    snapshotted = (Release,)
    value_objects = (TargetWindow, Priority)

    def plan_release(
        self, name: str, owner: str, priority: Priority, target: TargetWindow
    ) -> Release:
        release = Release(name=name, owner=owner, priority=priority, target=target)
        self.save(release)
        return release

    def release(self, release_id: UUID, as_of: datetime | None = None) -> Release:
        return self.get(release_id, Release, as_of=as_of)
