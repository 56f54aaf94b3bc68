"""Checks on what one command caused downstream: planning's releases, the registers risk
opened for them, and what planning learned back, each exactly once."""

from __future__ import annotations

import time
from collections import Counter

from changeledger.planning.application import PlanningApplication
from changeledger.risk.application import RiskApplication
from changeledger.runtime.settings import Settings
from tests.support.services import eventually
from tests.support.stores import events_of, opened


def wait_until_each_arrived(settings: Settings) -> float:
    """Until every release planning stored (answered or not) has its effects; returns
    (and prints) how long the services took to converge."""
    started = time.monotonic()

    def arrived() -> bool:
        with opened(PlanningApplication, "planning", settings) as store:
            planned = {str(e.originator_id) for e in events_of(store, "Release.Planned")}
            learned = {str(e.originator_id) for e in events_of(store, "Release.RiskRegisterOpened")}
        with opened(RiskApplication, "risk", settings) as store:
            opened_for = {str(e.release_id) for e in events_of(store, "RiskRegister.Opened")}
        return planned <= opened_for and planned <= learned

    eventually(arrived, timeout=120, interval=0.5, what="every effect arrived")
    converged = time.monotonic() - started
    print(f"converged: every effect arrived {converged:.1f} s after the load ended")
    time.sleep(2)  # let any late duplicate land before counting
    return converged


def assert_each_arrived_once(accepted: list[str], settings: Settings) -> None:
    with opened(PlanningApplication, "planning", settings) as store:
        planned = Counter(str(e.originator_id) for e in events_of(store, "Release.Planned"))
        learned = Counter(
            str(e.originator_id) for e in events_of(store, "Release.RiskRegisterOpened")
        )
    with opened(RiskApplication, "risk", settings) as store:
        registers = Counter(str(e.release_id) for e in events_of(store, "RiskRegister.Opened"))
        receipts = Counter(e.envelope_id for e in events_of(store, "ReceivedMessage.Received"))
    print(
        f"checked: {len(planned)} releases stored, {len(registers)} registers opened, "
        f"{len(learned)} learned back, {len(receipts)} messages received"
    )
    # Every 2xx is stored once; a command whose answer was lost may be stored too.
    assert set(accepted) <= set(planned)
    assert set(planned.values()) == {1}
    assert sorted(registers) == sorted(planned)
    assert set(registers.values()) == {1}
    assert set(receipts.values()) == {1}
    assert sorted(learned) == sorted(planned)
    assert set(learned.values()) == {1}
