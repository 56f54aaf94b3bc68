"""What the CMDB knows of planning's changes and releases, recorded in its own store from
planning's events, and the rule every write must pass: a change the CAB authorised, still
open for implementation, whose scope covers the CI.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from changeledger.cmdb.domain.values import known_change_id, known_release_id
from changeledger.runtime.domain import Aggregate, DomainError, NotPermitted, RuleViolated


class ChangeStatus(Enum):
    RAISED = "raised"
    AUTHORISED = "authorised"
    SCHEDULED = "scheduled"
    IMPLEMENTING = "implementing"
    REVIEWED = "reviewed"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


#: The states in which an authorised change may still be carried out.
OPEN_FOR_WRITES = frozenset(
    {ChangeStatus.AUTHORISED, ChangeStatus.SCHEDULED, ChangeStatus.IMPLEMENTING}
)
#: The states in which a change is over: it authorises nothing any more.
FINISHED = frozenset(
    {
        ChangeStatus.REVIEWED,
        ChangeStatus.CLOSED,
        ChangeStatus.REJECTED,
        ChangeStatus.CANCELLED,
    }
)

ENDED = frozenset({ChangeStatus.CLOSED, ChangeStatus.REJECTED, ChangeStatus.CANCELLED})


class KnownChange(Aggregate):
    class Raised(Aggregate.Created):
        change_id: UUID
        title: str
        type: str
        affected_cis: tuple[str, ...]
        target_release_id: UUID | None

    @staticmethod
    def create_id(change_id: UUID, **_: Any) -> UUID:
        return known_change_id(change_id)

    @event(Raised)
    def __init__(
        self,
        change_id: UUID,
        title: str,
        type: str,
        affected_cis: tuple[str, ...],
        target_release_id: UUID | None,
    ) -> None:
        self.change_id = change_id
        self.title = title
        self.type = type
        self.affected_cis = affected_cis
        self.target_release_id = target_release_id
        self.status = ChangeStatus.RAISED
        self.ci_scope: tuple[str, ...] = ()
        self.authorised_by: str | None = None
        self.window_start: datetime | None = None
        self.window_end: datetime | None = None

    class Authorised(Aggregate.Event):
        decided_by: str
        ci_scope: tuple[str, ...]
        window_start: datetime
        window_end: datetime

    def learn_authorisation(
        self, decided_by: str, ci_scope: tuple[str, ...], start: datetime, end: datetime
    ) -> None:
        if self.status is ChangeStatus.RAISED:
            self._authorised(
                decided_by=decided_by, ci_scope=ci_scope, window_start=start, window_end=end
            )

    @event(Authorised)
    def _authorised(
        self,
        decided_by: str,
        ci_scope: tuple[str, ...],
        window_start: datetime,
        window_end: datetime,
    ) -> None:
        self.status = ChangeStatus.AUTHORISED
        self.authorised_by = decided_by
        self.ci_scope = ci_scope
        self.window_start, self.window_end = window_start, window_end

    class StatusLearned(Aggregate.Event):
        status: ChangeStatus

    def learn_status(self, status: ChangeStatus) -> None:
        # Planning's events arrive in order per change; a replayed one changes nothing.
        if status in OPEN_FOR_WRITES and self.status is ChangeStatus.RAISED:
            return  # only the authorisation itself opens a change for writes
        if status is not self.status and self.status not in ENDED:
            self._status_learned(status=status)

    @event(StatusLearned)
    def _status_learned(self, status: ChangeStatus) -> None:
        self.status = status

    def covers(self, ci: str) -> bool:
        return ci in self.ci_scope

    @property
    def open_for_writes(self) -> bool:
        return self.status in OPEN_FOR_WRITES


def write_refusal(
    change_id: UUID | None, change: KnownChange | None, ci: str
) -> DomainError | None:
    """Why a write to `ci` under `change_id` is refused, or None when it is authorised."""
    if change_id is None:
        return NotPermitted(
            "every CMDB write names the authorised change it carries out (change_id)",
            rule="change-required",
        )
    if change is None:
        return NotPermitted(
            f"the CMDB has no record of change {change_id}: planning has not raised it, "
            "or its events have not arrived yet",
            rule="change-unknown",
            change_id=str(change_id),
        )
    if change.status in FINISHED:
        return RuleViolated(
            f"change {change_id} is {change.status.value}: it authorises no more writes",
            rule="change-finished",
            change_id=str(change_id),
            change_status=change.status.value,
        )
    if not change.open_for_writes:
        return NotPermitted(
            f"change {change_id} has not been authorised by the change authority",
            rule="change-not-authorised",
            change_id=str(change_id),
            change_status=change.status.value,
        )
    if not change.covers(ci):
        return NotPermitted(
            f"{ci} is outside the scope of change {change_id} ({', '.join(change.ci_scope)})",
            rule="ci-outside-scope",
            change_id=str(change_id),
            ci_scope=list(change.ci_scope),
        )
    return None


class KnownRelease(Aggregate):
    """A release's planned CI versions, applied to the CMDB when it is deployed."""

    class Learned(Aggregate.Created):
        release_id: UUID

    @staticmethod
    def create_id(release_id: UUID, **_: Any) -> UUID:
        return known_release_id(release_id)

    @event(Learned)
    def __init__(self, release_id: UUID) -> None:
        self.release_id = release_id
        self.planned_versions: dict[str, str] = {}
        self.deployed = False

    class VersionPlanned(Aggregate.Event):
        ci: str
        version: str

    def plan_version(self, ci: str, version: str) -> None:
        if self.planned_versions.get(ci) != version:
            self._version_planned(ci=ci, version=version)

    @event(VersionPlanned)
    def _version_planned(self, ci: str, version: str) -> None:
        self.planned_versions = {**self.planned_versions, ci: version}

    class DeploymentApplied(Aggregate.Event):
        pass

    def apply_deployment(self) -> bool:
        """Whether the deployment is new (a release is deployed once)."""
        if self.deployed:
            return False
        self._deployment_applied()
        return True

    @event(DeploymentApplied)
    def _deployment_applied(self) -> None:
        self.deployed = True
