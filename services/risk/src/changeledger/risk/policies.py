"""Risk's reactions to planning's events."""

from __future__ import annotations

from collections.abc import Sequence

from changeledger.contracts import Envelope
from changeledger.contracts import planning as planning_events
from changeledger.risk.application import RiskApplication
from changeledger.risk.domain import Category, Risk, RiskRegister, change_risk_id
from changeledger.runtime.consumer import Policies
from changeledger.runtime.domain import Aggregate

policies: Policies[RiskApplication] = Policies()


@policies.on(planning_events.ReleasePlanned)
def open_register(
    app: RiskApplication, event: planning_events.ReleasePlanned, envelope: Envelope
) -> Sequence[Aggregate]:
    """A planned release opens its risk register."""
    if app.has_register(event.release_id):
        return []
    return [RiskRegister(release_id=event.release_id, release_name=event.name)]


@policies.on(planning_events.ChangeRaised)
def assess_change_risk(
    app: RiskApplication, event: planning_events.ChangeRaised, envelope: Envelope
) -> Sequence[Aggregate]:
    """A raised change gets one "change risk assessment" risk, owned by its requester."""
    risk_id = change_risk_id(event.change_id)
    if app.contains(risk_id):
        return []
    release_id = event.target_release_id
    if release_id is not None and not app.has_register(release_id):
        release_id = None  # the release is not known here (yet): link the change only
    risk = Risk.identify(
        cause=f"the {event.type} change {event.title!r}",
        event="the change fails or has unintended side effects",
        effect=f"disruption to {', '.join(event.affected_cis)}",
        category=Category.CHANGE,
        owner=event.requested_by,
        release_id=release_id,
        change_id=event.change_id,
        proximity=None,
        risk_id=risk_id,
    )
    app.enlist(risk)
    return app.consequences(risk)


@policies.on(planning_events.ReleaseDeployed)
def close_passed_risks(
    app: RiskApplication, event: planning_events.ReleaseDeployed, envelope: Envelope
) -> Sequence[Aggregate]:
    """A deployed release closes its open risks whose proximity has passed."""
    return app.close_passed_risks(event.release_id, envelope.time.date())
