"""Planning and risk together on the real broker: a release planned in planning gets its
register in risk; a Critical risk there blocks the release's deployment here, and
accepting the risk lifts the block."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from changeledger.planning.domain import Money, Outcome, Priority, Window
from changeledger.planning.service import definition as planning
from changeledger.risk.domain import Category, Response, Score
from changeledger.risk.service import definition as risk
from changeledger.runtime.domain import Actor, DomainError, Provenance, acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.services import eventually_async, running

Q1_RELEASE = uuid4()
CAB = Provenance(Actor("carl", ("change-authority",)), "corr-e2e", "test")
RISK_MANAGER = Provenance(Actor("maya", ("risk-manager",)), "corr-e2e", "test")


async def test_a_critical_risk_blocks_the_deployment_until_it_is_accepted(
    settings: Settings,
) -> None:
    async with running(planning, settings) as plan, running(risk, settings) as risks:
        with acting(RELEASE_MANAGER):
            release = plan.app.plan_release("Gated", "rita", Priority.HIGH, Q1)

        async def registered() -> bool:
            return bool(risks.app.has_register(release.id))

        await eventually_async(registered, what="risk opened the release's register")

        async def noted() -> bool:
            return plan.app.release(release.id).risk_register_id is not None

        # Planning records the register too; let that land before changing the release.
        await eventually_async(noted, what="planning noted the register")

        with acting(RELEASE_MANAGER):
            plan.app.request_budget(release.id, Money(Decimal(10), "EUR"))
            plan.app.record_benefit(release.id, "m", "u", Decimal(1), Decimal(2), Q1.end)
        with acting(CAB):
            plan.app.assess_benefits(release.id, Outcome.APPROVED, "ok")
        start = datetime.now(UTC) + timedelta(days=20)
        with acting(RELEASE_MANAGER):
            plan.app.allocate_budget(release.id, Money(Decimal(10), "EUR"))
            plan.app.schedule_release(release.id, Window(start, start + timedelta(hours=2)))
            plan.app.start_release(release.id)

        with acting(RELEASE_MANAGER):
            critical = risks.app.identify_risk(
                "no rollback tested",
                "the migration corrupts data",
                "data loss",
                Category.TECHNICAL,
                "owen",
                release.id,
                None,
                None,
            )
            risks.app.assess_risk(critical.id, Score(4, 5), None)

        async def gate(blocked: int) -> bool:
            return bool(plan.app.release(release.id).exposure.unaccepted_critical == blocked)

        await eventually_async(lambda: gate(1), what="planning learned of the Critical risk")
        with acting(RELEASE_MANAGER), pytest.raises(DomainError) as refused:
            plan.app.mark_release_deployed(release.id)
        assert refused.value.rule == "critical-risk-open"

        with acting(RISK_MANAGER):
            risks.app.choose_response(critical.id, Response.ACCEPT, "backups verified")
        await eventually_async(lambda: gate(0), what="planning learned it was accepted")
        with acting(RELEASE_MANAGER):
            assert plan.app.mark_release_deployed(release.id).state.value == "Deployed"


async def test_a_raised_change_gets_its_risk_assessment_risk_once(settings: Settings) -> None:
    from changeledger.planning.domain import ChangeCategory, ChangeType, Level
    from changeledger.risk.domain import change_risk_id

    async with running(planning, settings) as plan, running(risk, settings) as risks:
        with acting(RELEASE_MANAGER):
            change = plan.app.raise_change(
                ChangeType.NORMAL,
                ChangeCategory.TECHNICAL,
                "Patch",
                "",
                ["ci-1"],
                None,
                Level.LOW,
                Level.LOW,
                "undo",
                "security fix",
            )

        async def assessed() -> bool:
            return bool(risks.app.contains(change_risk_id(change.id)))

        await eventually_async(assessed, what="risk identified the change risk")
        found = risks.app.risk(change_risk_id(change.id))
        assert (found.owner, found.change_id, found.state.value) == (
            "rita",
            change.id,
            "Identified",
        )


async def test_the_overdue_check_runs_on_the_services_own_clock(store_settings: Settings) -> None:
    from changeledger.risk.domain import RiskRegister

    quick = store_settings.model_copy(update={"job_interval_seconds": 0.2})
    async with running(risk, quick) as risks:
        with acting(Provenance(Actor("service:risk", ("service",)), "c", "t")):
            register = RiskRegister(release_id=Q1_RELEASE, release_name="Clocked")
            risks.app.save(register)
        with acting(RELEASE_MANAGER):
            late = risks.app.identify_risk(
                "c", "e", "f", Category.SCHEDULE, "owen", Q1_RELEASE, None, None
            )
            yesterday = datetime.now(UTC).date() - timedelta(days=1)
            risks.app.add_mitigation(late.id, "book the vendor", "dan", yesterday)

        async def escalated() -> bool:
            return len(risks.app.risk(late.id).escalations) == 1

        # No request arrives: only the service's own clock can escalate it.
        await eventually_async(escalated, timeout=10, what="the job escalated the risk")
        await asyncio.sleep(1.0)  # several more runs of the job
        assert len(risks.app.risk(late.id).escalations) == 1
