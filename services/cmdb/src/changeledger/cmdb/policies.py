"""What the CMDB learns from planning: each change's authorisation and status (the basis
of every write it accepts), and each release's planned CI versions, applied on deployment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from changeledger.cmdb.application import CmdbApplication
from changeledger.cmdb.domain import ChangeStatus
from changeledger.contracts import Envelope
from changeledger.contracts import planning as planning_events
from changeledger.runtime.consumer import Handler, Policies
from changeledger.runtime.domain import Aggregate

policies: Policies[CmdbApplication] = Policies()


@policies.on(planning_events.ChangeRaised)
def learn_change(
    app: CmdbApplication, event: planning_events.ChangeRaised, envelope: Envelope
) -> Sequence[Aggregate]:
    return app.learn_change(
        event.change_id,
        title=event.title,
        type=event.type,
        affected_cis=tuple(event.affected_cis),
        target_release_id=event.target_release_id,
    )


@policies.on(planning_events.ChangeAuthorised)
def learn_authorisation(
    app: CmdbApplication, event: planning_events.ChangeAuthorised, envelope: Envelope
) -> Sequence[Aggregate]:
    """From now on, writes to the change's CI scope are accepted under it."""
    change = app.known_change(event.change_id)
    if change is None:
        return []  # never raised as far as this store knows: it authorises nothing
    change.learn_authorisation(
        event.decided_by, tuple(event.ci_scope), event.window.start, event.window.end
    )
    return [change]


def _status(status: ChangeStatus) -> Handler[CmdbApplication]:
    def learn_status(app: CmdbApplication, event: Any, envelope: Envelope) -> Sequence[Aggregate]:
        change = app.known_change(event.change_id)
        if change is None:
            return []
        change.learn_status(status)
        return [change]

    learn_status.__name__ = f"learn_change_{status.value}"
    return learn_status


for model, status in (
    (planning_events.ChangeScheduled, ChangeStatus.SCHEDULED),
    (planning_events.ChangeImplementing, ChangeStatus.IMPLEMENTING),
    (planning_events.ChangeReviewed, ChangeStatus.REVIEWED),
    (planning_events.ChangeClosed, ChangeStatus.CLOSED),
    (planning_events.ChangeRejected, ChangeStatus.REJECTED),
    (planning_events.ChangeCancelled, ChangeStatus.CANCELLED),
):
    policies.on(model)(_status(status))


@policies.on(planning_events.ReleaseCiVersionPlanned)
def learn_planned_version(
    app: CmdbApplication, event: planning_events.ReleaseCiVersionPlanned, envelope: Envelope
) -> Sequence[Aggregate]:
    return app.learn_release_version(event.release_id, event.ci, event.ci_version)


@policies.on(planning_events.ReleaseDeployed)
def apply_deployed_versions(
    app: CmdbApplication, event: planning_events.ReleaseDeployed, envelope: Envelope
) -> Sequence[Aggregate]:
    """The release's planned CI versions are now the CIs' versions, each attributed to
    the release's change that covers the CI."""
    return app.apply_deployment(event.release_id)
