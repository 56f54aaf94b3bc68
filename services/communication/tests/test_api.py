"""Communication over HTTP: stakeholders, plans, public acknowledgement links, monitoring."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from changeledger.communication.service import definition
from changeledger.communication.settings import CommunicationSettings
from changeledger.runtime.auth import Authenticator
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.service import create_service


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = CommunicationSettings(data_dir=tmp_path, kafka_bootstrap_servers="127.0.0.1:1")
    with TestClient(create_service(definition, settings)) as client:
        auth = Authenticator(settings)
        client.headers["Authorization"] = "Bearer " + auth.mint("anna", ("comms-manager",))
        client.viewer = {"Authorization": "Bearer " + auth.mint("vic", ("viewer",))}
        yield client


def stakeholder(client: TestClient, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "Ann",
        "role": "CFO",
        "organisation": "Finance",
        "email": "ann@example.com",
        "power": 5,
        "interest": 4,
    } | extra
    response = client.post("/stakeholders", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_stakeholders_and_their_grid(client: TestClient) -> None:
    ann = stakeholder(client)
    assert ann["quadrant"] == "Manage closely"
    stakeholder(client, name="Moe", email="moe@example.com", power=1, interest=1)
    grid = client.get("/stakeholders/grid").json()
    assert [s["name"] for s in grid["Manage closely"]] == ["Ann"]
    assert [s["name"] for s in grid["Monitor"]] == ["Moe"]
    sub = client.post(f"/stakeholders/{ann['id']}/subscriptions", json={"ci": "ci-erp"})
    assert sub.json()["cis"] == ["ci-erp"]
    engaged = client.post(
        f"/stakeholders/{ann['id']}/engagement", json={"current": "Neutral", "desired": "Leading"}
    )
    assert engaged.json()["engagement_desired"] == "Leading"


@pytest.mark.parametrize(
    "bad",
    [
        {"email": "not-an-email"},
        {"power": 6},
        {"channel": "webhook"},  # no webhook URL
        {"webhook_url": "ftp://example.com"},
        {"name": ""},
    ],
)
def test_bad_stakeholders_are_refused(client: TestClient, bad: dict[str, Any]) -> None:
    response = client.post(
        "/stakeholders",
        json={
            "name": "X",
            "role": "r",
            "organisation": "o",
            "email": "x@example.com",
            "power": 3,
            "interest": 3,
        }
        | bad,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_plans_are_planned_by_comms_managers_and_acked_without_a_login(
    client: TestClient,
) -> None:
    ann = stakeholder(client)
    body = {
        "audience": {"stakeholder_ids": [ann["id"]]},
        "subject": "Go-live",
        "send_at": datetime.now(UTC).isoformat(),
        "ack_required": True,
        "ack_within_hours": 24,
    }
    assert client.post("/messages", json=body, headers=client.viewer).status_code == 403
    assert client.post("/messages", json=body | {"audience": {}}).status_code == 422
    planned = client.post("/messages", json=body)
    assert planned.status_code == 201, planned.text
    app = client.app.state.application  # type: ignore[attr-defined]
    with acting(Provenance(Actor("service:communication", ()), "c", "t")):
        app.dispatch_due(datetime.now(UTC) + timedelta(seconds=1))
    token = app.ack_token(UUID(planned.json()["id"]), UUID(ann["id"]))
    anonymous = {"Authorization": ""}
    first = client.get(f"/acks/{token}", headers=anonymous)
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "Acknowledged"
    again = client.post(f"/acks/{token}", headers=anonymous)
    assert again.status_code == 409
    assert again.json()["rule"] == "ack-used"
    assert client.get("/acks/" + "0" * 40, headers=anonymous).status_code in (404, 422)
    monitoring = client.get("/monitoring").json()
    assert monitoring["overall"]["acknowledged"] == 1
    assert monitoring["messages"][0]["rates"]["acknowledged_rate"] == 1.0
