"""The CMDB's unit tests run on a real SQLite store in a temporary folder, without Kafka.
Planning's part (raising and authorising changes) is played by the policies the consumer
would run, fed the contract events planning publishes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from changeledger.cmdb import policies as cmdb_policies
from changeledger.cmdb.application import CmdbApplication, NewCi
from changeledger.cmdb.domain import CiType, ConfigurationItem, RefusedWrite
from changeledger.cmdb.service import definition
from changeledger.contracts import IntegrationEvent
from changeledger.contracts import planning as planning_events
from changeledger.runtime.auth import Authenticator
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.service import create_service
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store
from tests.support.events import tell


def as_(sub: str, *roles: str) -> Provenance:
    return Provenance(Actor(sub, roles), f"corr-{sub}", "test")


MAINTAINER = as_("mo", "cmdb-maintainer")


class Planning:
    """Plays planning's side: the events the CMDB learns changes and releases from."""

    def __init__(self, app: CmdbApplication) -> None:
        self.app = app

    def tell(self, event: IntegrationEvent) -> None:
        tell(self.app, cmdb_policies.policies, event)

    def raise_change(self, cis: tuple[str, ...], release_id: UUID | None = None) -> UUID:
        change_id = uuid4()
        self.tell(
            planning_events.ChangeRaised(
                change_id=change_id,
                type="normal",
                category="technical",
                title=f"change {', '.join(cis)}",
                affected_cis=list(cis),
                target_release_id=release_id,
                impact="low",
                urgency="low",
                requested_by="rita",
            )
        )
        return change_id

    def authorise(self, change_id: UUID, scope: tuple[str, ...]) -> None:
        start = datetime.now(UTC) + timedelta(days=1)
        self.tell(
            planning_events.ChangeAuthorised(
                change_id=change_id,
                decided_by="carl",
                decided_at=datetime.now(UTC),
                reason="CAB approved",
                ci_scope=list(scope),
                window=planning_events.Window(start=start, end=start + timedelta(hours=2)),
            )
        )

    def authorised_change(self, *cis: str, release_id: UUID | None = None) -> UUID:
        change_id = self.raise_change(cis, release_id)
        self.authorise(change_id, cis)
        return change_id


class Cmdb:
    """The application, who acts, and the steps tests need (reached through the `cmdb`
    fixture: with pytest's importlib mode a conftest cannot be imported)."""

    MAINTAINER = MAINTAINER
    as_ = staticmethod(as_)

    def __init__(self, app: CmdbApplication) -> None:
        self.app = app
        self.planning = Planning(app)

    def head(self) -> int:
        return self.app.process_recorder.max_notification_id() or 0

    def register(
        self, key: str, change_id: UUID, type: CiType = CiType.APPLICATION, **fields: Any
    ) -> ConfigurationItem:
        with acting(MAINTAINER):
            return self.app.register_ci(
                NewCi(key, type, fields.pop("name", key.upper()), "olga", **fields), change_id
            )

    def cis(self, *keys: str) -> UUID:
        """Register `keys` under one authorised change; returns the change."""
        change_id = self.planning.authorised_change(*keys)
        for key in keys:
            self.register(key, change_id)
        return change_id

    def refusals(self) -> list[RefusedWrite]:
        return self.app.oversight.query(lambda o: o.refusals())


@pytest.fixture
def app(tmp_path: Path) -> Iterator[CmdbApplication]:
    application = open_store(CmdbApplication, "cmdb", Settings(data_dir=tmp_path))
    yield application
    application.close()


@pytest.fixture
def cmdb(app: CmdbApplication) -> Cmdb:
    return Cmdb(app)


class Api:
    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.authenticator = Authenticator(settings)
        self.app: CmdbApplication = client.app.state.application  # type: ignore[attr-defined]
        self.planning = Planning(self.app)

    def who(self, sub: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.authenticator.mint(sub, roles)}"}

    def post(self, path: str, json: object = None, who: dict[str, str] | None = None) -> Any:
        return self.client.post(path, json=json, headers=who or self.who("mo", "cmdb-maintainer"))

    def get(self, path: str, params: Any = None) -> Any:
        return self.client.get(path, headers=self.who("vic", "viewer"), params=params)

    @property
    def head(self) -> int:
        return int(self.app.process_recorder.max_notification_id() or 0)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path, kafka_bootstrap_servers="127.0.0.1:1")
    with TestClient(create_service(definition, settings)) as client:
        yield Api(client, settings)
