"""Fixtures shared by every test: the real broker and database, and isolated settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from changeledger.runtime.settings import Settings
from tests.support.infra import KafkaServer, PostgresServer, kafka_server, postgres_server
from tests.support.services import isolated_settings


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    with kafka_server(tmp_path_factory.mktemp("kafka")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite stores and once on PostgreSQL stores."""
    return str(request.param)


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, kafka: KafkaServer, store_kind: str
) -> Settings:
    """Settings for one test, on its own stores and topics, against the real broker."""
    server = request.getfixturevalue("postgres") if store_kind == "postgres" else None
    return isolated_settings(tmp_path, kafka, server)


@pytest.fixture
def store_settings(request: pytest.FixtureRequest, tmp_path: Path, store_kind: str) -> Settings:
    """Settings for one test's own stores, without a broker."""
    server = request.getfixturevalue("postgres") if store_kind == "postgres" else None
    return isolated_settings(tmp_path, None, server)
