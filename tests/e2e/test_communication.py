"""Planning and communication together on the real broker: a scheduled release plans its
announcements, and an authorised change tells those who use its CIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from changeledger.communication.domain import Channel
from changeledger.communication.service import definition as communication
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
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.services import eventually_async, running

CAB = Provenance(Actor("carl", ("change-authority",)), "corr-e2e", "test")
COMMS = Provenance(Actor("anna", ("comms-manager",)), "corr-e2e", "test")


async def test_a_scheduled_release_plans_its_announcements(settings: Settings) -> None:
    async with running(planning, settings) as plan, running(communication, settings) as comms:
        with acting(COMMS):
            user = comms.app.register_stakeholder(
                name="Ursula",
                role="user",
                organisation="sales",
                email="u@example.com",
                webhook_url=None,
                channel=Channel.EMAIL,
                power=2,
                interest=4,
            )
            comms.app.subscribe(user.id, None, "ci-crm")
        with acting(RELEASE_MANAGER):
            release = plan.app.plan_release("Announced", "rita", Priority.HIGH, Q1)
            plan.app.request_budget(release.id, Money(Decimal(10), "EUR"))
            plan.app.record_benefit(release.id, "m", "u", Decimal(1), Decimal(2), Q1.end)
        with acting(CAB):
            plan.app.assess_benefits(release.id, Outcome.APPROVED, "ok")
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        with acting(RELEASE_MANAGER):
            plan.app.allocate_budget(release.id, Money(Decimal(10), "EUR"))
            plan.app.schedule_release(release.id, Window(start, start + timedelta(hours=3)))
            change = plan.app.raise_change(
                ChangeType.NORMAL,
                ChangeCategory.TECHNICAL,
                "CRM patch",
                "",
                ["ci-crm"],
                None,
                Level.LOW,
                Level.LOW,
                "undo",
                "fix",
            )
            plan.app.submit_change(change.id)
        with acting(CAB):
            plan.app.assess_change(change.id, Level.LOW, "ok")
            plan.app.authorise_change(change.id, "go", Window(start, start + timedelta(hours=1)))

        async def planned() -> list[object] | None:
            messages = comms.app.board.query(lambda b: b.messages(release.id))
            return messages if len(messages) == 2 else None

        announcements = await eventually_async(planned, what="announcements planned")

        async def told_users() -> bool:
            return any(
                m.purpose == "change-authorised"
                for m in comms.app.board.query(lambda b: b.messages())
            )

        await eventually_async(told_users, what="a message for the CRM's users")
        known = comms.app.board.query(lambda b: b.release(release.id))

    send_times = sorted(m.send_at for m in announcements)  # type: ignore[attr-defined]
    assert send_times == [start - timedelta(days=14), start - timedelta(days=1)]
    assert known is not None
    assert known.name == "Announced"


async def test_an_authorised_change_reaches_the_owner_the_cmdb_names(settings: Settings) -> None:
    from changeledger.cmdb.application import NewCi
    from changeledger.cmdb.domain import CiType
    from changeledger.cmdb.service import definition as cmdb

    admin = Provenance(Actor("ada", ("cmdb-admin",)), "corr-e2e", "test")
    async with (
        running(planning, settings) as plan,
        running(cmdb, settings) as cmdbs,
        running(communication, settings) as comms,
    ):
        with acting(COMMS):
            olga = comms.app.register_stakeholder(
                name="olga",
                role="service owner",
                organisation="it",
                email="olga@example.com",
                webhook_url=None,
                channel=Channel.EMAIL,
                power=3,
                interest=3,
            )
        with acting(admin):
            cmdbs.app.bootstrap(
                [NewCi("erp", CiType.APPLICATION, "ERP", "olga")], [], "initial load"
            )

        async def owner_known() -> bool:
            from changeledger.communication.domain import known_ci_id

            return bool(comms.app.contains(known_ci_id("erp")))

        await eventually_async(owner_known, what="communication learned the ERP's owner")
        with acting(RELEASE_MANAGER):
            change = plan.app.raise_change(
                ChangeType.NORMAL,
                ChangeCategory.TECHNICAL,
                "ERP upgrade",
                "",
                ["erp"],
                None,
                Level.LOW,
                Level.LOW,
                "undo",
                "support ends",
            )
            plan.app.submit_change(change.id)
        start = datetime.now(UTC) + timedelta(days=10)
        with acting(CAB):
            plan.app.assess_change(change.id, Level.LOW, "ok")
            plan.app.authorise_change(change.id, "go", Window(start, start + timedelta(hours=1)))

        async def planned() -> object | None:
            found = [
                m for m in comms.app.board.query(lambda b: b.messages()) if m.change_id == change.id
            ]
            return found[0] if found else None

        message = await eventually_async(planned, what="the change's message planned")
        audience = comms.app.board.query(lambda b: b.audience(message.audience))  # type: ignore[attr-defined]
    assert [s.id for s in audience] == [olga.id]
