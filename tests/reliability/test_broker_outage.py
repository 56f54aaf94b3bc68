"""Kafka stops for 10 s while commands keep arriving: every accepted command reaches the
other service once the broker is back, with nothing lost and nothing duplicated."""

import time
from collections import Counter

from changeledger.planning.application import PlanningApplication
from changeledger.risk.application import RiskApplication
from changeledger.runtime.settings import Settings
from tests.support.actors import release_body
from tests.support.infra import KafkaServer
from tests.support.services import ServiceProcess, eventually
from tests.support.stores import events_of, opened

OUTAGE_SECONDS = 10.0


def test_commands_accepted_while_the_broker_is_down_all_arrive_once(
    settings: Settings, kafka: KafkaServer
) -> None:
    planning = ServiceProcess("planning", settings).start()
    risk = ServiceProcess("risk", settings).start()
    accepted: list[str] = []
    try:
        planning.wait_ready()
        risk.wait_ready()
        with planning.client("release-manager") as client:

            def command(n: int) -> None:
                response = client.post("/releases", json=release_body(f"R{n}"))
                assert response.status_code == 201, response.text
                accepted.append(response.json()["id"])

            for n in range(5):
                command(n)
            kafka.stop()
            outage_ends = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < outage_ends:
                command(len(accepted))
                time.sleep(0.2)
            during_outage = len(accepted) - 5
            kafka.start()
            for _ in range(5):
                command(len(accepted))

        assert during_outage >= 20

        def all_arrived() -> bool:
            with opened(RiskApplication, "risk", settings) as store:
                return len(events_of(store, "RiskRegister.Opened")) >= len(accepted)

        eventually(all_arrived, timeout=120, interval=0.5, what="every register opened")

        def planning_learned() -> bool:
            with opened(PlanningApplication, "planning", settings) as store:
                return len(events_of(store, "Release.RiskRegisterOpened")) >= len(accepted)

        eventually(planning_learned, timeout=120, interval=0.5, what="planning learned back")
        time.sleep(2)  # let any late duplicate land before counting
    finally:
        planning.stop()
        risk.stop()

    with opened(RiskApplication, "risk", settings) as store:
        registers = Counter(str(e.release_id) for e in events_of(store, "RiskRegister.Opened"))
        receipts = Counter(e.envelope_id for e in events_of(store, "ReceivedMessage.Received"))
    assert sorted(registers) == sorted(accepted)
    assert set(registers.values()) == {1}
    assert set(receipts.values()) == {1}
    with opened(PlanningApplication, "planning", settings) as planning_store:
        learned = Counter(
            e.originator_id for e in events_of(planning_store, "Release.RiskRegisterOpened")
        )
    assert sorted(str(r) for r in learned) == sorted(accepted)
    assert set(learned.values()) == {1}
