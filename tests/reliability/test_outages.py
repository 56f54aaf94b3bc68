"""Commands keep arriving while PostgreSQL restarts, or while the broker is cut off (its
process paused, as in a network partition). Afterwards, with no manual step: every
command that got a 2xx is in planning's store once, its effect is in risk's store once,
planning learned of it back once, and nothing was answered with a 5xx other than 503."""

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
    accepted, statuses = commands_across(postgres.restart, settings)
    print(f"PostgreSQL restart: {len(accepted)} accepted, answers {dict(statuses)}")
    assert_each_arrived_once(accepted, settings)


def test_a_broker_cut_off_for_a_while_loses_and_duplicates_nothing(
    tmp_path: Path, kafka: KafkaServer
) -> None:
    settings = isolated_settings(tmp_path, kafka, None)

    def partition() -> None:
        kafka.pause()
        time.sleep(10)
        kafka.resume()

    accepted, statuses = commands_across(partition, settings)
    print(f"broker paused 10 s: {len(accepted)} accepted, answers {dict(statuses)}")
    # The broker is not on the command path: nothing is refused while it is away.
    assert set(statuses) == {201}
    assert_each_arrived_once(accepted, settings)


def commands_across(
    outage: Callable[[], None], settings: Settings
) -> tuple[list[str], Counter[int]]:
    """Send commands before, during and after `outage`; returns the ids accepted and a
    count of every answer's status."""
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
                        statuses[0] += 1  # no answer at all: nothing was accepted
                        continue
                    statuses[response.status_code] += 1
                    if response.status_code == 201:
                        accepted.append(response.json()["id"])
                    time.sleep(0.05)

            during = threading.Thread(target=send_for, args=(LOAD_SECONDS * 2,))
            send_for(LOAD_SECONDS / 2)
            during.start()
            outage()
            during.join()
            send_for(LOAD_SECONDS / 2)  # the services recovered by themselves

        wait_until_each_arrived(settings)
    finally:
        planning.stop()
        risk.stop()
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[201] == len(accepted) > 0
    return accepted, statuses
