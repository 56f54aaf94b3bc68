"""A service in two worker processes sharing its port and its store, SQLite or PostgreSQL
(`serve --workers 2`): commands sent concurrently to both are each stored once, one relay
publishes them all, and the effects downstream, handled by two consumer workers sharing
partitions, arrive once. On SQLite, the leading relay hears of the other workers' saves
at once, not at its next poll."""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support.actors import release_body
from tests.support.effects import assert_each_arrived_once, wait_until_each_arrived
from tests.support.infra import KafkaServer
from tests.support.services import ServiceProcess, eventually, isolated_settings

LOAD_SECONDS = 8.0
CLIENTS = 8


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_two_workers_on_one_store_store_publish_and_handle_everything_once(
    tmp_path: Path, kafka: KafkaServer, store: str, request: pytest.FixtureRequest
) -> None:
    postgres = request.getfixturevalue("postgres") if store == "postgres" else None
    settings = isolated_settings(tmp_path, kafka, postgres, kafka_partitions=3)
    planning = ServiceProcess("planning", settings, workers=2).start()
    risk = ServiceProcess("risk", settings, workers=2).start()
    statuses: Counter[int] = Counter()
    accepted: list[str] = []
    try:
        planning.wait_ready()
        risk.wait_ready()

        def load(n: int) -> None:
            # A connection per request, so the kernel spreads them over both workers.
            ends, sent = time.monotonic() + LOAD_SECONDS, 0
            while time.monotonic() < ends:
                with planning.client("release-manager") as client:
                    response = client.post("/releases", json=release_body(f"W{n}-{sent}"))
                statuses[response.status_code] += 1
                if response.status_code == 201:
                    accepted.append(response.json()["id"])
                sent += 1

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(load, range(CLIENTS)))
        wait_until_each_arrived(settings)
        # Read before stopping: as the leader stops, another worker may take over.
        relay_leaders = planning.worker_pids("relay is the leader")
        # FastStream logs an empty assignment too; these hold partitions.
        risk_holders = risk.worker_pids("assigned to partitions: (TopicPartition")
    finally:
        planning.stop()
        risk.stop()

    print(f"answers {dict(statuses)}")
    assert set(statuses) == {201}, "a worker refused or failed a command"
    assert len(planning.worker_pids("startup complete")) == 2
    assert len(relay_leaders) == 1
    assert len(risk_holders) == 2
    assert_each_arrived_once(accepted, settings)


def test_the_leading_relay_publishes_another_workers_save_without_waiting_to_poll(
    tmp_path: Path, kafka: KafkaServer
) -> None:
    # Polled once a minute, and no job of the leader's own saving anything meanwhile: only
    # being told of the save publishes it within seconds.
    settings = isolated_settings(
        tmp_path, kafka, None, relay_idle_poll_seconds=60, seal_interval_seconds=3600
    )
    replicas = [ServiceProcess("planning", settings).start() for _ in range(2)]
    try:
        for replica in replicas:
            replica.wait_ready()

        def relay(replica: ServiceProcess) -> dict[str, Any]:
            return dict(replica.wait_ready()["relay"])

        leader = eventually(
            lambda: next((r for r in replicas if relay(r)["leader"]), None), what="a relay leads"
        )
        other = next(r for r in replicas if r is not leader)
        before = relay(leader)["published"]
        with other.client("release-manager") as client:
            assert client.post("/releases", json=release_body("Elsewhere")).status_code == 201
        published = eventually(
            lambda: relay(leader)["published"] > before or None,
            timeout=10,
            what="the leader published the other replica's save",
        )
    finally:
        for replica in replicas:
            replica.stop()
    assert published


def test_each_worker_listens_on_a_socket_of_its_own(tmp_path: Path, kafka: KafkaServer) -> None:
    # With one socket for all, the worker that woke first accepted a whole burst of new
    # connections; with one each (SO_REUSEPORT), the kernel spreads them.
    settings = isolated_settings(tmp_path, kafka, None)
    planning = ServiceProcess("planning", settings, workers=2).start()
    try:
        supervisor = psutil.Process(planning.pid)
        workers = [psutil.Process(int(pid)) for pid in planning.worker_pids("startup complete")]

        def each_listening() -> dict[int, set[str]] | None:
            # A worker logs its start-up a moment before it listens.
            listening = {w.pid: _listening_on(w, planning.port) for w in workers}
            return listening if all(listening.values()) else None

        listening = eventually(each_listening, timeout=10, what="each worker listens")
        held_by_supervisor = _listening_on(supervisor, planning.port)
        clients = [planning.client("viewer") for _ in range(CONNECTIONS)]
        try:
            for client in clients:
                assert client.get("/releases").status_code == 200
            served = {w.pid: _connected_to(w, planning.port) for w in workers}
        finally:
            for client in clients:
                client.close()
    finally:
        planning.stop()
    print(f"connections per worker {served}")
    assert len(workers) == 2
    assert all(len(sockets) == 1 for sockets in listening.values())
    assert len(set().union(*listening.values())) == 2, "the workers share one socket"
    assert held_by_supervisor == set()  # bound, never listening: it takes no connection
    assert sum(served.values()) == CONNECTIONS
    assert all(served.values()), "one worker was given every connection"


#: New connections at once: all on one worker by chance is 2 in 2**20.
CONNECTIONS = 20


def _listening_on(process: psutil.Process, port: int) -> set[str]:
    """The sockets (by inode) on which `process` listens on `port`."""
    listening = {
        c.fd
        for c in process.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }
    return {os.readlink(f"/proc/{process.pid}/fd/{fd}") for fd in listening}


def _connected_to(process: psutil.Process, port: int) -> int:
    return sum(
        1
        for c in process.net_connections(kind="tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
    )
