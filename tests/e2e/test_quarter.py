"""The demo's quarter as a test: the four services as real processes on the real broker
and PostgreSQL, driven only through their public APIs (as `make demo` drives them).
Then the final state of every service is checked, that their read models agree, and
that each store rebuilds to what its running service holds."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from changeledger.cli.demo.play import Played, play
from changeledger.communication.settings import CommunicationSettings
from changeledger.contracts import SERVICES
from changeledger.runtime.rebuild import rebuild
from changeledger.runtime.settings import Settings
from tests.support.infra import KafkaServer, PostgresServer, free_port
from tests.support.services import ServiceProcess, isolated_settings
from tests.support.stores import opened

Reader = dict[str, httpx.Client]


@dataclass
class Quarter:
    played: Played
    readers: Reader
    #: Each service's client with an auditor's token.
    auditors: Reader
    settings: Settings


@pytest.fixture(scope="module")
def quarter(
    tmp_path_factory: pytest.TempPathFactory, kafka: KafkaServer, postgres: PostgresServer
) -> Iterator[Quarter]:
    base = isolated_settings(
        tmp_path_factory.mktemp("quarter"), kafka, postgres, job_interval_seconds=0.5
    )
    # Communication's own settings (its mail server) reach every process alike.
    settings = CommunicationSettings(**base.model_dump(), smtp_port=free_port())
    processes = {name: ServiceProcess(name, settings) for name in SERVICES}
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_ready()
        urls = {name: process.url for name, process in processes.items()}
        played = play(urls, settings, lambda line: print(line), webhook_port=free_port())
        readers = {
            name: process.client("viewer", sub="reader") for name, process in processes.items()
        }
        auditors = {
            name: process.client("auditor", sub="audrey") for name, process in processes.items()
        }
        yield Quarter(played, readers, auditors, settings)
        for client in [*readers.values(), *auditors.values()]:
            client.close()
    finally:
        for process in processes.values():
            process.stop()


def get(readers: Reader, service: str, path: str, **params: Any) -> Any:
    response = readers[service].get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_service_ends_the_quarter_as_the_scenario_says(
    quarter: Quarter,
) -> None:
    played, readers = quarter.played, quarter.readers
    q = played.quarter
    states = {
        name: get(readers, "planning", f"/releases/{release_id}")["state"]
        for name, release_id in q.releases.items()
    }
    assert states == {"payments": "Closed", "portal": "Deployed", "warehouse": "Planned"}
    warehouse = get(readers, "planning", f"/releases/{q.releases['warehouse']}")
    assert warehouse["budget"]["allocated"] is None
    changes = {
        name: get(readers, "planning", f"/change-requests/{change_id}")["state"]
        for name, change_id in q.changes.items()
    }
    assert changes.pop("dw-vendor") == "Rejected"
    assert changes.pop("reporting") == "Cancelled"
    assert changes.pop("etl") == "Assess"
    assert set(changes.values()) == {"Closed"}
    assert len(changes) == 10

    oidc = get(readers, "risk", f"/risks/{q.risks['oidc']}")
    assert oidc["state"] == "Accepted"
    assert sorted(q.refusals) == sorted(
        [
            "budget for a release whose benefits were rejected",
            "a deployment scheduled in the freeze",
            "scope change of a scheduled release without a change",
            "deployment with an unaccepted Critical risk",
            "a risk owner accepting her own Critical risk",
            "a CMDB write without a change",
        ]
    )

    cut_over = get(readers, "communication", f"/messages/{q.messages['cut-over']}")
    assert cut_over["state"] == "Acknowledged"
    assert all(r["acknowledged_at"] for r in cut_over["recipients"])
    assert q.acknowledged == len(cut_over["recipients"]) == 2
    late = get(readers, "communication", f"/messages/{q.messages['portal-changes']}")
    assert late["state"] in {"Overdue", "Escalated"}
    assert get(readers, "communication", f"/messages/{q.messages['fyi']}")["state"] == "Delivered"

    assert len(get(readers, "cmdb", "/cis")) == 54
    assert get(readers, "cmdb", "/cis/web-01")["attributes"] == {"openssl": "3.0.15"}
    drift = get(readers, "cmdb", "/drift")
    assert [(d["ci"], d["field"], d["observed"]) for d in drift] == [
        ("web-03", "version", "nginx-1.25")
    ]
    refused = get(readers, "cmdb", "/refusals")
    assert [(r["ci"], r["actor"], r["rule"]) for r in refused] == [
        ("pay-db", "eve", "change-required")
    ]
    assert sorted(played.report.verified) == sorted(SERVICES)
    assert all(v["intact"] for v in played.report.verified.values())


def test_the_read_models_of_the_four_services_agree(quarter: Quarter) -> None:
    played, readers = quarter.played, quarter.readers
    q = played.quarter
    # The CMDB's view of each change follows planning's, and every CI written under a
    # change is one planning authorised it for.
    status_of = {
        "Closed": "closed",
        "Rejected": "rejected",
        "Cancelled": "cancelled",
        "Assess": "raised",
    }
    touched: dict[str, set[str]] = {}
    for name, change_id in q.changes.items():
        planned = get(readers, "planning", f"/change-requests/{change_id}")
        recorded = get(readers, "cmdb", f"/changes/{change_id}")
        assert recorded["status"] == status_of[planned["state"]], name
        written = {w["ci"] for w in recorded["writes"]}
        assert written <= set(planned["ci_scope"] or ()), name
        touched[name] = written
    assert touched["openssl"] == {"web-01", "web-02"}
    assert touched["pay-upgrade"] == {"pay-api", "pay-worker"}
    assert len(touched["onboard"]) == 54

    # The versions a deployed release planned are the CMDB's versions.
    for name in ("payments", "portal"):
        release = get(readers, "planning", f"/releases/{q.releases[name]}")
        assert release["ci_versions"]
        for ci, version in release["ci_versions"].items():
            assert get(readers, "cmdb", f"/cis/{ci}")["version"] == version

    # Planning's picture of each release's risks is the risk register's.
    for name, release_id in q.releases.items():
        release = get(readers, "planning", f"/releases/{release_id}")
        register = get(readers, "risk", f"/registers/{release_id}")
        assert release["risk_register_id"] == register["id"], name
        assert release["risk_exposure"] == register["exposure"], name
    portal = get(readers, "planning", f"/releases/{q.releases['portal']}")
    assert portal["risk_exposure"]["unaccepted_critical"] == 0

    # Communication announced the go-live of exactly the releases planning deployed.
    deployed = {q.releases["payments"], q.releases["portal"]}
    go_lives = {
        m["release_id"]
        for m in get(readers, "communication", "/messages")
        if m["purpose"] == "go-live"
    }
    assert go_lives == deployed


@pytest.mark.parametrize("service", SERVICES)
def test_each_store_rebuilds_to_what_its_running_service_holds(
    quarter: Quarter, service: str
) -> None:
    live = get(quarter.auditors, service, "/audit/read-models")
    definition = importlib.import_module(f"changeledger.{service}.service").definition
    with opened(definition.application, service, quarter.settings) as app:
        against_live = rebuild(app, live=live)
        alone = rebuild(app)
        in_processes = rebuild(app, live=live, workers=2, parallel_from=0)
    assert against_live.differences == []
    assert (in_processes.views_compared, in_processes.differences) == (len(live), [])
    assert against_live.views_compared == len(live) > 0
    assert alone.differences == []
    assert alone.views.keys() == live.keys()
    print(f"{service}: {alone.events} events rebuilt, read models {alone.views}")
