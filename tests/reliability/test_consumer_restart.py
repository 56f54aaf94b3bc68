"""A consumer killed mid-stream resumes from the offsets its store has tracked: nothing
is skipped and nothing is applied twice."""

from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Priority, Release
from changeledger.risk.application import RiskApplication
from changeledger.runtime.domain import acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.services import ServiceProcess, eventually
from tests.support.stores import events_of, opened

RELEASES = 600


def registers(settings: Settings) -> list[object]:
    with opened(RiskApplication, "risk", settings) as store:
        return [e.release_id for e in events_of(store, "RiskRegister.Opened")]


def test_a_killed_consumer_resumes_from_its_tracked_offsets(settings: Settings) -> None:
    planning = ServiceProcess("planning", settings).start()
    risk = ServiceProcess("risk", settings).start()
    try:
        planning.wait_ready()
        risk.wait_ready()
        # A burst of releases, written straight into planning's store in one transaction:
        # planning's relay publishes them, and risk is killed while it works through them.
        with opened(PlanningApplication, "planning", settings) as store, acting(RELEASE_MANAGER):
            releases = [Release(f"R{n}", "rita", Priority.LOW, Q1) for n in range(RELEASES)]
            store.save(*releases)

        applied_before_kill = eventually(
            lambda: (n := risk.wait_ready()["consumer"]["applied"]) >= 30 and n,
            interval=0.01,
            what="risk is part-way through",
        )
        risk.kill()
        stored_at_kill = len(registers(settings))
        assert applied_before_kill <= stored_at_kill < RELEASES, "not killed mid-stream"

        restarted = ServiceProcess("risk", settings, port=risk.port).start()
        eventually(
            lambda: len(registers(settings)) >= RELEASES,
            timeout=120,
            interval=0.5,
            what="risk handled the rest",
        )
        after_restart = restarted.wait_ready()["consumer"]
        restarted.stop()
    finally:
        planning.stop()
        risk.stop()

    opened_for = registers(settings)
    assert sorted(map(str, opened_for)) == sorted(str(r.id) for r in releases)
    # Resuming from the tracked offsets, the restarted consumer applied exactly the rest.
    # (It may still be handed a record twice when the group rebalances again as the
    # killed member times out; the tracking records make that a no-op, counted as such.)
    assert after_restart["applied"] == RELEASES - stored_at_kill
    assert after_restart["duplicates"] < applied_before_kill
