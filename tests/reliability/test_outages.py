"""Commands keep arriving while PostgreSQL restarts, while the broker is cut off (its
process paused, as in a network partition), or while planning is killed and restarted.
Afterwards, with no manual step: every command that got a 2xx is in planning's store
once, its effect is in risk's store once, planning learned of it back once, and nothing
was answered with a 5xx other than 503."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from changeledger.runtime.settings import Settings
from tests.support.actors import release_body
from tests.support.effects import assert_each_arrived_once, wait_until_each_arrived
from tests.support.infra import KafkaServer, PostgresServer
from tests.support.services import ServiceProcess, isolated_settings

LOAD_SECONDS = 8.0


def test_a_postgresql_restart_loses_and_duplicates_nothing(
    tmp_path: Path, kafka: KafkaServer, postgres: PostgresServer
) -> None:
    settings = isolated_settings(tmp_path, kafka, postgres)
    accepted, statuses = commands_across(lambda planning: postgres.restart(), settings)
    print(f"PostgreSQL restart: {len(accepted)} accepted, answers {dict(statuses)}")
    assert_each_arrived_once(accepted, settings)


def test_a_broker_cut_off_for_a_while_loses_and_duplicates_nothing(
    tmp_path: Path, kafka: KafkaServer
) -> None:
    settings = isolated_settings(tmp_path, kafka, None)

    def partition(planning: ServiceProcess) -> None:
        kafka.pause()
        time.sleep(10)
        kafka.resume()

    accepted, statuses = commands_across(partition, settings)
    print(f"broker paused 10 s: {len(accepted)} accepted, answers {dict(statuses)}")
    # The broker is not on the command path: nothing is refused while it is away.
    assert set(statuses) == {201}
    assert_each_arrived_once(accepted, settings)


def test_planning_killed_mid_load_and_restarted_loses_and_duplicates_nothing(
    tmp_path: Path, kafka: KafkaServer
) -> None:
    settings = isolated_settings(tmp_path, kafka, None)

    def crash(planning: ServiceProcess) -> None:
        time.sleep(2)
        planning.kill()  # SIGKILL: no chance to tidy up, its relay mid-batch
        time.sleep(1)
        planning.start()

    accepted, statuses = commands_across(crash, settings, answers=frozenset({0, 201}))
    print(f"planning killed and restarted: {len(accepted)} accepted, answers {dict(statuses)}")
    assert statuses[0] > 0  # requests did meet the dead process
    assert_each_arrived_once(accepted, settings)


def commands_across(
    outage: Callable[[ServiceProcess], None],
    settings: Settings,
    answers: frozenset[int] = frozenset({201, 503}),
) -> tuple[list[str], Counter[int]]:
    """Send commands before, during and after `outage` (given the planning process);
    returns the ids accepted and a count of every answer's status (0: no answer)."""
    planning = ServiceProcess("planning", settings).start()
    risk = ServiceProcess("risk", settings).start()
    accepted: list[str] = []
    statuses: Counter[int] = Counter()
    try:
        planning.wait_ready()
        risk.wait_ready()
        with planning.client("release-manager") as client:

            def send_for(seconds: float) -> None:
                ends = time.monotonic() + seconds
                while time.monotonic() < ends:
                    try:
                        response = client.post(
                            "/releases", json=release_body(f"R{sum(statuses.values())}")
                        )
                    except httpx.TransportError:
                        statuses[0] += 1  # no answer: not counted as accepted
                        time.sleep(0.05)
                        continue
                    statuses[response.status_code] += 1
                    if response.status_code == 201:
                        accepted.append(response.json()["id"])
                    time.sleep(0.05)

            during = threading.Thread(target=send_for, args=(LOAD_SECONDS * 2,))
            send_for(LOAD_SECONDS / 2)
            during.start()
            outage(planning)
            during.join()
            send_for(LOAD_SECONDS / 2)  # the services recovered by themselves

        wait_until_each_arrived(settings)
    finally:
        planning.stop()
        risk.stop()
    assert set(statuses) <= answers, statuses
    assert statuses[201] == len(accepted) > 0
    return accepted, statuses
