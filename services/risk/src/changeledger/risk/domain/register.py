"""A release's risk register, and the exposure it reports to the rest of the system."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from changeledger.risk.domain.issue import Issue
from changeledger.risk.domain.risk import Risk, RiskState
from changeledger.risk.domain.scoring import Rating
from changeledger.runtime.domain import Aggregate

_REGISTER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:changeledger:risk-register")


def register_id_for(release_id: UUID) -> UUID:
    return uuid5(_REGISTER_NAMESPACE, str(release_id))


@dataclass(frozen=True)
class Exposure:
    open_risks: int = 0
    open_issues: int = 0
    highest_score: int = 0
    #: Open risks rated Critical that have not been accepted: these block a deployment.
    unaccepted_critical: int = 0

    @classmethod
    def of(cls, risks: Iterable[Risk], issues: Iterable[Issue]) -> Exposure:
        open_risks = [r for r in risks if r.is_open]
        return cls(
            open_risks=len(open_risks),
            open_issues=sum(1 for i in issues if i.is_open),
            highest_score=max((r.score.value for r in open_risks if r.score), default=0),
            unaccepted_critical=sum(
                1
                for r in open_risks
                if r.rating is Rating.CRITICAL and r.state is not RiskState.ACCEPTED
            ),
        )


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
        self.exposure = Exposure()

    class ExposureChanged(Aggregate.Event):
        release_id: UUID
        exposure: Exposure

    def note_exposure(self, exposure: Exposure) -> None:
        if exposure != self.exposure:
            self._exposure_changed(self.release_id, exposure)

    @event(ExposureChanged)
    def _exposure_changed(self, release_id: UUID, exposure: Exposure) -> None:
        self.exposure = exposure
