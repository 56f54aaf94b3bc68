"""The real Kafka broker and PostgreSQL server the tests run against.

Each is chosen in this order: an address given in the environment, then testcontainers
when a Docker engine answers, then the local launchers under `deploy/`.

    CHANGELEDGER_TEST_KAFKA=host:port
    CHANGELEDGER_TEST_POSTGRES=postgresql://user:password@host:port/dbname
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from changeledger.deploy import KAFKA_VERSION, KafkaLauncher, PostgresLauncher

CP_KAFKA_IMAGE = "confluentinc/cp-kafka:8.1.0"  # Confluent Platform 8.1 is Apache Kafka 4.1
POSTGRES_IMAGE = "postgres:17"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@dataclass
class KafkaServer:
    bootstrap_servers: str
    launcher: KafkaLauncher | None = None
    origin: str = "launcher"

    def _controls(self) -> KafkaLauncher:
        if self.launcher is None:
            pytest.skip(f"the {self.origin} Kafka broker is not under this test's control")
        return self.launcher

    def stop(self) -> None:
        self._controls().stop()

    def start(self) -> None:
        self._controls().start()

    def pause(self) -> None:
        self._controls().pause()

    def resume(self) -> None:
        self._controls().resume()


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    launcher: PostgresLauncher | None = None
    origin: str = "launcher"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "store": "postgres",
            "postgres_host": self.host,
            "postgres_port": self.port,
            "postgres_user": self.user,
            "postgres_password": self.password,
            "postgres_dbname": self.dbname,
        }

    def restart(self) -> None:
        if self.launcher is None:
            pytest.skip(f"the {self.origin} PostgreSQL server is not under this test's control")
        self.launcher.restart()


@contextmanager
def kafka_server(home: Path) -> Iterator[KafkaServer]:
    if address := os.environ.get("CHANGELEDGER_TEST_KAFKA"):
        yield KafkaServer(address, origin="configured")
        return
    if docker_answers():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer(CP_KAFKA_IMAGE).with_kraft() as container:
            yield KafkaServer(container.get_bootstrap_server(), origin="container")
        return
    launcher = KafkaLauncher(home, port=free_port(), controller_port=free_port())
    launcher.start()
    try:
        yield KafkaServer(launcher.bootstrap_servers, launcher)
    finally:
        launcher.stop()


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    if url := os.environ.get("CHANGELEDGER_TEST_POSTGRES"):
        parts = urlparse(url)
        yield PostgresServer(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "changeledger",
            password=parts.password or "",
            dbname=(parts.path or "/changeledger").lstrip("/"),
            origin="configured",
        )
        return
    if docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, driver=None) as container:
            yield PostgresServer(
                host=container.get_container_host_ip(),
                port=int(container.get_exposed_port(5432)),
                user=container.username,
                password=container.password,
                dbname=container.dbname,
                origin="container",
            )
        return
    launcher = PostgresLauncher(port=free_port())
    launcher.start()
    try:
        yield PostgresServer(
            host="127.0.0.1",
            port=launcher.port,
            user=launcher.user,
            password=launcher.password,
            dbname=launcher.database,
            launcher=launcher,
        )
    finally:
        launcher.stop()
        shutil.rmtree(launcher.home, ignore_errors=True)


__all__ = ["KAFKA_VERSION", "KafkaServer", "PostgresServer", "free_port"]
