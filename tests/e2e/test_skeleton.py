"""The walking skeleton, end to end: real services, real broker, both kinds of store.

A release planned on planning opens its risk register on risk, and the register's
opening travels back so planning's release knows it."""

from collections.abc import Iterator

import pytest

from changeledger.runtime.settings import Settings
from tests.support.actors import release_body
from tests.support.services import ServiceProcess, eventually


@pytest.fixture
def services(settings: Settings) -> Iterator[dict[str, ServiceProcess]]:
    started = {}
    try:
        for name in ("planning", "risk", "communication", "cmdb"):
            started[name] = ServiceProcess(name, settings).start()
        for service in started.values():
            service.wait_ready()
        yield started
    finally:
        for service in started.values():
            service.stop()


def test_a_planned_release_opens_its_risk_register_and_planning_learns_of_it(
    services: dict[str, ServiceProcess],
) -> None:
    with services["planning"].client("release-manager") as planning:
        created = planning.post("/releases", json=release_body("Spring release"))
        assert created.status_code == 201, created.text
        release = created.json()
        assert release["state"] == "Planned"

    with services["risk"].client("viewer") as risk:
        register = eventually(
            lambda: (r := risk.get(f"/registers/{release['id']}")).status_code == 200 and r.json(),
            what="risk opened the register",
        )
    assert register["release_id"] == release["id"]
    assert register["release_name"] == "Spring release"

    with services["planning"].client("viewer") as planning:
        known = eventually(
            lambda: planning.get(f"/releases/{release['id']}").json()["risk_register_id"],
            what="planning learned of the register",
        )
    assert known == register["id"]


def test_every_service_reports_its_store_and_broker_ready(
    services: dict[str, ServiceProcess],
) -> None:
    for name, service in services.items():
        ready = service.wait_ready()
        assert ready["service"] == name
        assert ready["store"]["ready"]
        assert ready["kafka"]["ready"]
        assert ready["relay"]["leader"] is True
