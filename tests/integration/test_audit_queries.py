"""`changeledger audit history | at | diff | trace | export`, checked against a scripted
scenario with known answers, read from the stores alone (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from changeledger.cli.main import app as cli
from changeledger.cmdb import policies as cmdb_policies
from changeledger.cmdb.application import CmdbApplication, NewCi
from changeledger.cmdb.domain import CiType
from changeledger.contracts import planning as planning_events
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import ChangeCategory, ChangeType, Level, Priority
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1
from tests.support.events import tell
from tests.support.stores import cli_env, opened

RITA = Actor("rita", ("release-manager",))
ADA = Actor("ada", ("cmdb-admin",))


def as_(actor: Actor, correlation: str, command: str) -> Provenance:
    return Provenance(actor, correlation, command, f"cause-{command}")


def moment() -> datetime:
    time.sleep(0.02)
    stamp = datetime.now(UTC)
    time.sleep(0.02)
    return stamp


class Story:
    """A release planned, held and resumed; a change raised that the CMDB learns of and
    writes under, all in one business action ("corr-change")."""

    def __init__(self, settings: Settings) -> None:
        with opened(PlanningApplication, "planning", settings) as plan:
            with acting(as_(RITA, "corr-plan", "plan_release")):
                self.release = plan.plan_release("Spring", "rita", Priority.HIGH, Q1).id
            self.t1 = moment()
            with acting(as_(RITA, "corr-hold", "put_release_on_hold")):
                plan.put_release_on_hold(self.release, "funds")
            self.t2 = moment()
            with acting(as_(RITA, "corr-resume", "resume_release")):
                plan.resume_release(self.release)
            with acting(as_(RITA, "corr-change", "raise_change")):
                change = plan.raise_change(
                    ChangeType.STANDARD,
                    ChangeCategory.TECHNICAL,
                    "Rotate certificates",
                    "",
                    ["web"],
                    None,
                    Level.LOW,
                    Level.LOW,
                    "restore the old ones",
                    "expiry",
                )
            self.change = change.id
        with opened(CmdbApplication, "cmdb", settings) as cmdb:
            with acting(as_(ADA, "corr-bootstrap", "bootstrap")):
                cmdb.bootstrap([NewCi("web", CiType.SERVICE, "Web", "olga")], [], "load")
            raised = planning_events.ChangeRaised(
                change_id=self.change,
                type="standard",
                category="technical",
                title="Rotate certificates",
                affected_cis=["web"],
                target_release_id=None,
                impact="low",
                urgency="low",
                requested_by="rita",
            )
            tell(cmdb, cmdb_policies.policies, raised, "corr-change")


@pytest.fixture
def story(store_settings: Settings) -> Story:
    return Story(store_settings)


def audit(settings: Settings, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["audit", *args], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    return result.output


def test_history_says_when_who_why_and_what_changed(story: Story, store_settings: Settings) -> None:
    entries = json.loads(audit(store_settings, "history", str(story.release), "--json"))
    assert [(e["event"], e["actor"], e["correlation_id"]) for e in entries] == [
        ("Release.Planned", "rita", "corr-plan"),
        ("Release.PutOnHold", "rita", "corr-hold"),
        ("Release.Resumed", "rita", "corr-resume"),
    ]
    held = {c["field"]: (c["before"], c["after"]) for c in entries[1]["changes"]}
    assert held == {"held_from": (None, "Planned"), "state": ("Planned", "OnHold")}
    assert entries[1]["command"] == "put_release_on_hold"
    assert entries[1]["causation_id"] == "cause-put_release_on_hold"
    assert "Release.PutOnHold" in audit(store_settings, "history", str(story.release))


def test_the_state_at_a_time_and_the_changes_between_two(
    story: Story, store_settings: Settings
) -> None:
    at_t1 = json.loads(
        audit(store_settings, "at", str(story.release), "--as-of", story.t1.isoformat(), "--json")
    )
    at_t2 = json.loads(
        audit(store_settings, "at", str(story.release), "--as-of", story.t2.isoformat(), "--json")
    )
    assert (at_t1["state"], at_t2["state"]) == ("Planned", "OnHold")
    assert at_t1["name"] == "Spring"
    between = json.loads(
        audit(
            store_settings,
            "diff",
            str(story.release),
            "--from",
            story.t1.isoformat(),
            "--to",
            story.t2.isoformat(),
            "--json",
        )
    )
    assert [(c["field"], c["after"]) for c in between["changes"]] == [
        ("held_from", "Planned"),
        ("state", "OnHold"),
    ]
    assert [e["event"] for e in between["events"]] == ["Release.PutOnHold"]


def test_a_business_action_is_traced_across_services_in_time_order(
    story: Story, store_settings: Settings
) -> None:
    entries = json.loads(audit(store_settings, "trace", "corr-change", "--json"))
    steps = [(e["service"], e["event"]) for e in entries]
    assert steps[0] == ("planning", "ChangeRequest.Raised")
    assert ("cmdb", "KnownChange.Raised") in steps
    assert all(e["correlation_id"] == "corr-change" for e in entries)
    times = [e["at"] for e in entries]
    assert times == sorted(times)


def test_export_gives_every_event_with_the_envelope_fields(
    story: Story, store_settings: Settings
) -> None:
    lines = audit(store_settings, "export", "--service", "planning").splitlines()
    records = [json.loads(line) for line in lines]
    release_events = [r for r in records if r["subject"] == str(story.release)]
    assert [r["type"] for r in release_events] == [
        "Release.Planned",
        "Release.PutOnHold",
        "Release.Resumed",
    ]
    assert all(r["source"] == "planning" and r["chain"] for r in records)
    assert json.loads(release_events[0]["data"])["name"] == "Spring"
    window = audit(
        store_settings,
        "export",
        "--service",
        "planning",
        "--from",
        story.t1.isoformat(),
        "--to",
        story.t2.isoformat(),
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(window)))
    assert [(r["type"], r["actor"]) for r in rows] == [("Release.PutOnHold", "rita")]
    assert UUID(rows[0]["id"])


def test_auditors_get_the_same_answers_over_http(tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from changeledger.planning.service import definition
    from changeledger.runtime.auth import Authenticator
    from changeledger.runtime.service import create_service
    from tests.support.actors import release_body

    settings = Settings(data_dir=tmp_path, kafka_bootstrap_servers="127.0.0.1:1")
    mint = Authenticator(settings).mint
    auditor = {"Authorization": f"Bearer {mint('audrey', ('auditor',))}"}
    with TestClient(create_service(definition, settings)) as client:
        planned = client.post(
            "/releases",
            json=release_body("Audited"),
            headers={"Authorization": f"Bearer {mint('rita', ('release-manager',))}"},
        )
        release_id = planned.json()["id"]
        entries = client.get(f"/audit/history/{release_id}", headers=auditor).json()
        assert [(e["event"], e["actor"], e["command"]) for e in entries] == [
            ("Release.Planned", "rita", "plan_release")
        ]
        assert (
            client.get(
                f"/audit/history/{release_id}",
                headers=auditor | {"Authorization": f"Bearer {mint('rita', ('release-manager',))}"},
            ).status_code
            == 403
        )
        assert client.get(f"/audit/history/{UUID(int=7)}", headers=auditor).status_code == 404
        verified = client.get("/audit/verify", headers=auditor).json()
        assert (verified["intact"], verified["events"]) == (True, 1)
        exported = client.get("/audit/export", headers=auditor)
        assert exported.headers["content-type"].startswith("application/x-ndjson")
        [record] = [json.loads(line) for line in exported.text.splitlines()]
        assert (record["subject"], record["actor"]) == (release_id, "rita")
