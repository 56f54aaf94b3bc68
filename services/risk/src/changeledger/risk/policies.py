"""Risk's reactions to other services' events."""

from __future__ import annotations

from collections.abc import Sequence

from changeledger.contracts import Envelope
from changeledger.contracts.planning import ReleasePlanned
from changeledger.risk.application import RiskApplication
from changeledger.risk.domain import RiskRegister
from changeledger.runtime.consumer import Policies
from changeledger.runtime.domain import Aggregate

policies: Policies[RiskApplication] = Policies()


@policies.on(ReleasePlanned)
def open_register(
    app: RiskApplication, event: ReleasePlanned, envelope: Envelope
) -> Sequence[Aggregate]:
    """A planned release opens its risk register."""
    if app.has_register(event.release_id):
        return []
    return [RiskRegister(release_id=event.release_id, release_name=event.name)]
