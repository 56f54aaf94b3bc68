from datetime import date

from changeledger.planning.domain import Priority, TargetWindow
from changeledger.runtime.domain import Actor, Provenance

RELEASE_MANAGER = Provenance(Actor("rita", ("release-manager",)), "corr-test", "plan_release")
Q1 = TargetWindow(date(2027, 1, 4), date(2027, 3, 26))


def release_body(name: str) -> dict[str, str]:
    return {
        "name": name,
        "owner": "rita",
        "priority": Priority.HIGH.value,
        "target_start": Q1.start.isoformat(),
        "target_end": Q1.end.isoformat(),
    }
