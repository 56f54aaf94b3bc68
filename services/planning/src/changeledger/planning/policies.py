"""Planning's reactions to other services' events."""

from __future__ import annotations

from collections.abc import Sequence

from changeledger.contracts import Envelope
from changeledger.contracts.risk import RiskRegisterOpened
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Release
from changeledger.runtime.consumer import Policies
from changeledger.runtime.domain import Aggregate

policies: Policies[PlanningApplication] = Policies()


@policies.on(RiskRegisterOpened)
def note_risk_register(
    app: PlanningApplication, event: RiskRegisterOpened, envelope: Envelope
) -> Sequence[Aggregate]:
    release: Release = app.release(event.release_id)
    release.note_risk_register(event.register_id)
    return [release]
