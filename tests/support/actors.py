"""Who acts in the tests, and what they send."""

from datetime import date, timedelta

from changeledger.planning.domain import Period, Priority
from changeledger.runtime.domain import Actor, Provenance

RELEASE_MANAGER = Provenance(Actor("rita", ("release-manager",)), "corr-test", "plan_release")
# Months ahead of whenever the tests run.
_START = date.today() + timedelta(days=60)
Q1 = Period(_START, _START + timedelta(days=80))


def release_body(name: str) -> dict[str, str]:
    return {
        "name": name,
        "owner": "rita",
        "priority": Priority.HIGH.value,
        "target_start": Q1.start.isoformat(),
        "target_end": Q1.end.isoformat(),
    }
