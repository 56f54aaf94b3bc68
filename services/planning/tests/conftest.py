"""Planning's unit tests run on a real SQLite store in a temporary folder, without Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import (
    ChangeCategory,
    ChangeRequest,
    ChangeType,
    Level,
    Money,
    Outcome,
    Period,
    Priority,
    Release,
    Window,
)
from changeledger.planning.service import definition
from changeledger.runtime.auth import Authenticator
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.service import create_service
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store

TODAY = datetime.now(UTC).date()
AHEAD = Period(TODAY + timedelta(days=90), TODAY + timedelta(days=150))


def window(days_ahead: int, hours: int = 4) -> Window:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days_ahead)
    return Window(start, start + timedelta(hours=hours))


def as_(sub: str, *roles: str) -> Provenance:
    return Provenance(Actor(sub, roles), f"corr-{sub}", "test")


RITA = as_("rita", "release-manager")
CARL = as_("carl", "change-authority")
EUR = "EUR"


class Planning:
    """The application, with who acts and the steps the tests need to reach each state.

    (Tests reach these through the `planning` fixture: with pytest's importlib mode a
    conftest cannot be imported.)"""

    RITA = RITA
    CARL = CARL
    AHEAD = AHEAD
    TODAY = TODAY
    window = staticmethod(window)
    as_ = staticmethod(as_)

    def __init__(self, app: PlanningApplication) -> None:
        self.app = app

    def head(self) -> int:
        return self.app.process_recorder.max_notification_id() or 0

    def plan(self, name: str = "R") -> Release:
        with acting(RITA):
            return self.app.plan_release(name, "rita", Priority.HIGH, AHEAD)

    def approve(self, release_id: UUID) -> Release:
        with acting(RITA):
            self.app.request_budget(release_id, Money(Decimal("1000.00"), EUR))
            self.app.record_benefit(
                release_id, "tickets", "per week", Decimal(100), Decimal(60), AHEAD.end
            )
        with acting(CARL):
            self.app.assess_benefits(release_id, Outcome.APPROVED, "worth it")
        with acting(RITA):
            return self.app.allocate_budget(release_id, Money(Decimal("800.00"), EUR))

    def change(
        self,
        type: ChangeType = ChangeType.NORMAL,
        cis: tuple[str, ...] = ("ci-app",),
        release_id: UUID | None = None,
    ) -> ChangeRequest:
        with acting(RITA):
            return self.app.raise_change(
                type,
                ChangeCategory.TECHNICAL,
                "Upgrade",
                "",
                cis,
                release_id,
                Level.MEDIUM,
                Level.MEDIUM,
                "roll back",
                "because",
            )

    def authorised_change(
        self, release_id: UUID | None, cis: tuple[str, ...] = ("ci-app",)
    ) -> ChangeRequest:
        change = self.change(ChangeType.NORMAL, cis, release_id)
        with acting(RITA):
            self.app.submit_change(change.id)
        with acting(CARL):
            self.app.assess_change(change.id, Level.LOW, "fine")
            return self.app.authorise_change(change.id, "go", window(30))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[PlanningApplication]:
    application = open_store(PlanningApplication, "planning", Settings(data_dir=tmp_path))
    yield application
    application.close()


@pytest.fixture
def planning(app: PlanningApplication) -> Planning:
    return Planning(app)


class Api:
    """Planning's HTTP API in-process (no broker), with a client per role."""

    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.authenticator = Authenticator(settings)

    def as_(self, sub: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.authenticator.mint(sub, roles)}"}

    @property
    def rita(self) -> dict[str, str]:
        return self.as_("rita", "release-manager")

    @property
    def carl(self) -> dict[str, str]:
        return self.as_("carl", "change-authority")

    @property
    def vic(self) -> dict[str, str]:
        return self.as_("vic", "viewer")

    @property
    def head(self) -> int:
        app = self.client.app.state.application  # type: ignore[attr-defined]
        return int(app.process_recorder.max_notification_id() or 0)

    def post(
        self,
        path: str,
        json: object = None,
        who: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self.client.post(path, json=json, headers={**(who or self.rita), **(headers or {})})

    def get(
        self, path: str, params: dict[str, str] | None = None, who: dict[str, str] | None = None
    ) -> Any:
        return self.client.get(path, headers=who or self.vic, params=params)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path, kafka_bootstrap_servers="127.0.0.1:1")
    with TestClient(create_service(definition, settings)) as client:
        yield Api(client, settings)
