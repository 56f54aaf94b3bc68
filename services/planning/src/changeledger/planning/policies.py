"""Planning's reactions to other services' events: what it learns of its releases' risks."""

from __future__ import annotations

from collections.abc import Sequence

from changeledger.contracts import Envelope
from changeledger.contracts import risk as risk_events
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import RiskExposure
from changeledger.runtime.consumer import Policies
from changeledger.runtime.domain import Aggregate

policies: Policies[PlanningApplication] = Policies()


@policies.on(risk_events.RiskRegisterOpened)
def note_risk_register(
    app: PlanningApplication, event: risk_events.RiskRegisterOpened, envelope: Envelope
) -> Sequence[Aggregate]:
    release = app.release(event.release_id)
    release.note_risk_register(event.register_id)
    return [release]


@policies.on(risk_events.RiskExposureChanged)
def note_risk_exposure(
    app: PlanningApplication, event: risk_events.RiskExposureChanged, envelope: Envelope
) -> Sequence[Aggregate]:
    """Recorded as planning's own event, so the deployment gate needs no call to risk."""
    release = app.release(event.release_id)
    release.note_risk_exposure(
        RiskExposure(
            open_risks=event.open_risks,
            open_issues=event.open_issues,
            highest_score=event.highest_score,
            unaccepted_critical=event.unaccepted_critical,
            register_version=event.register_version or 0,
        )
    )
    return [release]
