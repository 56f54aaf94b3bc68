"""Planning on the real broker: what it publishes, and what it learns from risk."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from changeledger.contracts import Envelope
from changeledger.planning.domain import (
    ChangeCategory,
    ChangeType,
    Level,
    Money,
    Outcome,
    Priority,
    Window,
)
from changeledger.planning.service import definition as planning
from changeledger.runtime.domain import Actor, DomainError, Provenance, acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.infra import KafkaServer
from tests.support.kafka import produce, read_topic
from tests.support.services import eventually_async, running

CAB = Provenance(Actor("carl", ("change-authority",)), "corr-cab", "authorise")


def exposure_envelope(release_id: object, unaccepted_critical: int, sequence: int) -> bytes:
    return json.dumps(
        {
            "id": str(uuid4()),
            "source": "risk",
            "type": "risk.exposure.changed",
            "dataversion": 1,
            "subject": str(release_id),
            "time": datetime.now(UTC).isoformat(),
            "actor": {"sub": "service:risk", "roles": ["service"]},
            "correlationid": "corr-risk",
            "sequence": sequence,
            "data": {
                "release_id": str(release_id),
                "open_risks": 2,
                "open_issues": 0,
                "highest_score": 20,
                "unaccepted_critical": unaccepted_critical,
            },
        }
    ).encode()


def window(days: int) -> Window:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return Window(start, start + timedelta(hours=4))


async def test_a_critical_risk_reported_by_risk_blocks_the_deployment_until_accepted(
    settings: Settings, kafka: KafkaServer
) -> None:
    async with running(planning, settings) as service:
        app = service.app
        with acting(RELEASE_MANAGER):
            rid = app.plan_release("Gated", "rita", Priority.HIGH, Q1).id
            app.request_budget(rid, Money(Decimal(10), "EUR"))
            app.record_benefit(rid, "m", "u", Decimal(1), Decimal(2), Q1.end)
        with acting(CAB):
            app.assess_benefits(rid, Outcome.APPROVED, "ok")
        with acting(RELEASE_MANAGER):
            app.allocate_budget(rid, Money(Decimal(10), "EUR"))
            app.schedule_release(rid, window(20))
            app.start_release(rid)
        risk_topic = settings.topic("risk.events")
        await produce(
            kafka.bootstrap_servers, risk_topic, exposure_envelope(rid, 1, 1), str(rid).encode()
        )

        async def learned(critical: int) -> bool:
            return bool(app.release(rid).exposure.unaccepted_critical == critical)

        await eventually_async(lambda: learned(1), what="planning learned of the Critical risk")
        with acting(RELEASE_MANAGER), pytest.raises(DomainError) as refused:
            app.mark_release_deployed(rid)
        assert refused.value.rule == "critical-risk-open"

        await produce(
            kafka.bootstrap_servers, risk_topic, exposure_envelope(rid, 0, 2), str(rid).encode()
        )
        await eventually_async(lambda: learned(0), what="planning learned it was accepted")
        with acting(RELEASE_MANAGER):
            assert app.mark_release_deployed(rid).state.value == "Deployed"


async def test_an_authorised_change_is_published_with_its_ci_scope_and_window(
    settings: Settings, kafka: KafkaServer
) -> None:
    async with running(planning, settings) as service:
        app = service.app
        slot = window(10)
        with acting(RELEASE_MANAGER):
            change = app.raise_change(
                ChangeType.NORMAL,
                ChangeCategory.BUSINESS_REQUIREMENT,
                "New invoice field",
                "",
                ["ci-billing", "ci-db"],
                None,
                Level.MEDIUM,
                Level.HIGH,
                "feature flag off",
                "finance asked",
            )
            app.submit_change(change.id)
        with acting(CAB):
            app.assess_change(change.id, Level.LOW, "small")
            app.authorise_change(change.id, "CAB approved", slot, ["ci-billing"])
        records = await read_topic(kafka.bootstrap_servers, service.topic, at_least=4)
    envelopes = [Envelope.model_validate_json(r.value) for r in records]
    # One aggregate, one key, one partition: in the order it happened.
    assert [e.type for e in envelopes] == [
        "planning.change.raised",
        "planning.change.assessed",
        "planning.change.authorised",
        "planning.change.scheduled",
    ]
    authorised = next(e for e in envelopes if e.type == "planning.change.authorised")
    assert authorised.subject == str(change.id)
    assert authorised.actor.sub == "carl"
    assert authorised.data["ci_scope"] == ["ci-billing"]
    assert datetime.fromisoformat(authorised.data["window"]["start"]) == slot.start
    assert authorised.data["decided_by"] == "carl"
