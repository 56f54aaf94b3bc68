"""What communication knows of a release, learned from planning's events and recorded as
its own, so messages can name it and reach its owner without asking planning."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from changeledger.runtime.domain import Aggregate

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:changeledger:communication:release")


def known_release_id(release_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, str(release_id))


class KnownRelease(Aggregate):
    class Learned(Aggregate.Created):
        release_id: UUID
        name: str
        owner: str

    @staticmethod
    def create_id(release_id: UUID) -> UUID:
        return known_release_id(release_id)

    @event(Learned)
    def __init__(self, release_id: UUID, name: str, owner: str) -> None:
        self.release_id = release_id
        self.name = name
        self.owner = owner
        self.window_start: datetime | None = None
        self.window_end: datetime | None = None
        self.deployed = False

    class WindowLearned(Aggregate.Event):
        start: datetime
        end: datetime

    def learn_window(self, start: datetime, end: datetime) -> None:
        if (start, end) != (self.window_start, self.window_end):
            self._window_learned(start, end)

    @event(WindowLearned)
    def _window_learned(self, start: datetime, end: datetime) -> None:
        self.window_start, self.window_end = start, end

    class DeploymentLearned(Aggregate.Event):
        pass

    def learn_deployment(self) -> None:
        if not self.deployed:
            self._deployment_learned()

    @event(DeploymentLearned)
    def _deployment_learned(self) -> None:
        self.deployed = True
