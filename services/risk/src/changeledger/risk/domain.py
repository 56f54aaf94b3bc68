"""Risk's domain: a register of risks and issues per release.

The foundation holds only what the walking skeleton needs; the risk issue grows it.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from changeledger.runtime.domain import Aggregate

_REGISTER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:changeledger:risk-register")


class RiskRegister(Aggregate):
    """The risks and issues of one release. A release has exactly one register."""

    class Opened(Aggregate.Created):
        release_id: UUID
        release_name: str

    @staticmethod
    def create_id(release_id: UUID) -> UUID:
        return register_id_for(release_id)

    @event(Opened)
    def __init__(self, release_id: UUID, release_name: str) -> None:
        self.release_id = release_id
        self.release_name = release_name


def register_id_for(release_id: UUID) -> UUID:
    return uuid5(_REGISTER_NAMESPACE, str(release_id))
