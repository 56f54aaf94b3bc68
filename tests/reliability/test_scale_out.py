"""Two replicas of planning and of risk on one PostgreSQL store each and 3-partition
topics, the risk replicas sharing one consumer group. Killing the planning replica whose
relay publishes hands publishing to the other within seconds; killing a risk replica
rebalances its partitions to the other; nothing is lost or done twice. Two commands on
one release through the two replicas, each for the same version, are serialised: one is
applied, the other refused, with 412 when its If-Match was already stale as it was read,
or 409 when both read the same version and the store refused the second save."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from changeledger.runtime.settings import Settings
from tests.support.actors import release_body
from tests.support.effects import assert_each_arrived_once, wait_until_each_arrived
from tests.support.infra import KafkaServer, PostgresServer
from tests.support.services import ServiceProcess, eventually, isolated_settings

LOAD_SECONDS = 12.0


def replicas(name: str, settings: Settings) -> list[ServiceProcess]:
    processes = [ServiceProcess(name, settings).start() for _ in range(2)]
    for process in processes:
        process.wait_ready()
    return processes


def is_leader(process: ServiceProcess) -> bool:
    ready = process._ready()
    return bool(ready and ready["relay"]["leader"])


def test_killing_a_replica_mid_load_loses_and_duplicates_nothing(
    tmp_path: Path, kafka: KafkaServer, postgres: PostgresServer
) -> None:
    settings = isolated_settings(tmp_path, kafka, postgres, kafka_partitions=3)
    plannings = replicas("planning", settings)
    risks = replicas("risk", settings)
    accepted: list[str] = []
    statuses: Counter[int] = Counter()
    try:
        leader = eventually(
            lambda: next((p for p in plannings if is_leader(p)), None), what="a relay leads"
        )
        follower = next(p for p in plannings if p is not leader)
        clients = [p.client("release-manager") for p in plannings]

        def load() -> None:
            ends, n = time.monotonic() + LOAD_SECONDS, 0
            while time.monotonic() < ends:
                try:
                    response = clients[n % 2].post("/releases", json=release_body(f"S{n}"))
                except httpx.TransportError:  # the killed replica
                    statuses[0] += 1
                else:
                    statuses[response.status_code] += 1
                    if response.status_code == 201:
                        accepted.append(response.json()["id"])
                n += 1
                time.sleep(0.02)

        sending = threading.Thread(target=load)
        sending.start()
        time.sleep(LOAD_SECONDS / 3)
        leader.kill()
        killed_at = time.monotonic()
        eventually(lambda: is_leader(follower), timeout=30, interval=0.1, what="a takeover")
        takeover = time.monotonic() - killed_at
        risks[0].kill()  # its partitions go to the other replica
        sending.join()
        for client in clients:
            client.close()
        wait_until_each_arrived(settings)
    finally:
        for process in [*plannings, *risks]:
            process.stop()
    print(f"relay takeover after SIGKILL: {takeover:.1f} s; answers {dict(statuses)}")
    assert set(statuses) <= {0, 201}
    assert len(accepted) == statuses[201] > 0
    assert_each_arrived_once(accepted, settings)


def test_commands_on_one_release_through_two_replicas_are_serialised(
    tmp_path: Path, kafka: KafkaServer, postgres: PostgresServer
) -> None:
    settings = isolated_settings(tmp_path, kafka, postgres)
    plannings = replicas("planning", settings)
    try:
        first, second = (p.client("release-manager") for p in plannings)
        release = first.post("/releases", json=release_body("Contended")).json()
        version = f'"{release["version"]}"'
        path = f"/releases/{release['id']}"
        with ThreadPoolExecutor(2) as pool:
            hold = pool.submit(
                first.post, f"{path}/hold", json={"reason": "funds"}, headers={"If-Match": version}
            )
            cancel = pool.submit(
                second.post,
                f"{path}/cancel",
                json={"reason": "dropped"},
                headers={"If-Match": version},
            )
            answers = {"OnHold": hold.result(), "Cancelled": cancel.result()}
        final = first.get(path).json()
        first.close()
        second.close()
    finally:
        for process in plannings:
            process.stop()
    codes = sorted(answer.status_code for answer in answers.values())
    assert codes in ([200, 409], [200, 412]), {k: v.text for k, v in answers.items()}
    won = next(state for state, answer in answers.items() if answer.status_code == 200)
    assert final["state"] == won
    assert final["version"] == release["version"] + 1
