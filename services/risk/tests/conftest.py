"""Risk's unit tests run on a real SQLite store in a temporary folder, without Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from changeledger.risk.application import RiskApplication
from changeledger.risk.domain import Category, Risk, RiskRegister, Score
from changeledger.risk.service import definition
from changeledger.runtime.auth import Authenticator
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.service import create_service
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store

TODAY = datetime.now(UTC).date()


def as_(sub: str, *roles: str) -> Provenance:
    return Provenance(Actor(sub, roles), f"corr-{sub}", "test")


class Risks:
    """The application, who acts, and the steps tests need (reached through the `risks`
    fixture: with pytest's importlib mode a conftest cannot be imported)."""

    MAYA = as_("maya", "risk-manager")
    OWEN = as_("owen", "risk-manager")  # owns the risks the tests identify
    RITA = as_("rita", "release-manager")
    SYSTEM = as_("service:risk", "service")
    TODAY = TODAY
    as_ = staticmethod(as_)

    def __init__(self, app: RiskApplication) -> None:
        self.app = app
        self.release_id = uuid4()
        with acting(self.SYSTEM):
            self.app.save(RiskRegister(release_id=self.release_id, release_name="Spring"))

    def head(self) -> int:
        return self.app.process_recorder.max_notification_id() or 0

    def identify(self, proximity: date | None = None, release: bool = True) -> Risk:
        with acting(self.RITA):
            return self.app.identify_risk(
                "old database",
                "the upgrade fails",
                "outage",
                Category.TECHNICAL,
                "owen",
                self.release_id if release else None,
                None,
                proximity,
            )

    def assessed(self, likelihood: int, impact: int, residual: Score | None = None) -> Risk:
        risk = self.identify()
        with acting(self.RITA):
            return self.app.assess_risk(risk.id, Score(likelihood, impact), residual)

    def exposure(self) -> Any:
        return self.app.register_of(self.release_id).exposure

    def due(self, days: int) -> date:
        return self.TODAY + timedelta(days=days)

    def risk(self, risk_id: UUID) -> Risk:
        return self.app.risk(risk_id)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[RiskApplication]:
    application = open_store(RiskApplication, "risk", Settings(data_dir=tmp_path))
    yield application
    application.close()


@pytest.fixture
def risks(app: RiskApplication) -> Risks:
    return Risks(app)


class Api:
    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.authenticator = Authenticator(settings)

    def who(self, sub: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.authenticator.mint(sub, roles)}"}

    def post(self, path: str, json: object = None, who: dict[str, str] | None = None) -> Any:
        return self.client.post(path, json=json, headers=who or self.who("maya", "risk-manager"))

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return self.client.get(path, headers=self.who("vic", "viewer"), params=params)

    @property
    def head(self) -> int:
        app = self.client.app.state.application  # type: ignore[attr-defined]
        return int(app.process_recorder.max_notification_id() or 0)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path, kafka_bootstrap_servers="127.0.0.1:1")
    with TestClient(create_service(definition, settings)) as client:
        yield Api(client, settings)
