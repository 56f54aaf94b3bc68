"""Planning and the CMDB together on the real broker: a change authorised in planning
unlocks CMDB writes for exactly the CIs of its scope, and a release deployed in planning
sets the CI versions it planned, attributed to its change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from changeledger.cmdb.application import NewCi
from changeledger.cmdb.domain import CiType
from changeledger.cmdb.service import definition as cmdb
from changeledger.planning.domain import ChangeCategory, ChangeType, Level, Money, Outcome, Window
from changeledger.planning.domain import Priority as ReleasePriority
from changeledger.planning.service import definition as planning
from changeledger.runtime.domain import Actor, DomainError, Provenance, acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.services import eventually_async, running

CAB = Provenance(Actor("carl", ("change-authority",)), "corr-e2e", "test")
ADMIN = Provenance(Actor("ada", ("cmdb-admin",)), "corr-e2e", "test")
MAINTAINER = Provenance(Actor("mo", ("cmdb-maintainer",)), "corr-e2e", "test")


async def test_an_authorised_change_unlocks_exactly_its_cis_and_a_deployment_sets_versions(
    settings: Settings,
) -> None:
    async with running(planning, settings) as plan, running(cmdb, settings) as cmdbs:
        with acting(ADMIN):
            cmdbs.app.bootstrap(
                [
                    NewCi("pay-api", CiType.SERVICE, "Payments API", "olga", version="1.0"),
                    NewCi("pay-db", CiType.DATABASE, "Payments DB", "dan", version="14"),
                ],
                [],
                "initial load",
            )
        with acting(RELEASE_MANAGER):
            release = plan.app.plan_release("Payments", "rita", ReleasePriority.HIGH, Q1)
            change = plan.app.raise_change(
                ChangeType.NORMAL,
                ChangeCategory.TECHNICAL,
                "Upgrade the payments API",
                "",
                ["pay-api", "pay-db"],
                release.id,
                Level.MEDIUM,
                Level.MEDIUM,
                "redeploy 1.0",
                "PCI fix",
            )
            plan.app.submit_change(change.id)
        start = datetime.now(UTC) + timedelta(days=20)
        window = Window(start, start + timedelta(hours=2))
        with acting(CAB):
            plan.app.assess_change(change.id, Level.LOW, "routine")
        with acting(MAINTAINER), pytest.raises(DomainError) as early:
            cmdbs.app.update_ci("pay-api", change.id, attributes={"tls": "1.3"})
        assert early.value.rule in {"change-unknown", "change-not-authorised"}

        with acting(CAB):
            plan.app.authorise_change(change.id, "CAB: go", window, ["pay-api"])

        async def authorised() -> bool:
            known = cmdbs.app.known_change(change.id)
            return known is not None and known.open_for_writes

        await eventually_async(authorised, what="the CMDB learned of the authorisation")
        with acting(MAINTAINER):
            updated = cmdbs.app.update_ci("pay-api", change.id, attributes={"tls": "1.3"})
            assert updated.attributes == {"tls": "1.3"}
            with pytest.raises(DomainError) as outside:
                cmdbs.app.update_ci("pay-db", change.id, attributes={"tls": "1.3"})
        assert outside.value.rule == "ci-outside-scope"

        # The release is funded, scheduled, started and deployed with pay-api at 2.0.
        with acting(RELEASE_MANAGER):
            plan.app.request_budget(release.id, Money(Decimal(10), "EUR"))
            plan.app.record_benefit(release.id, "m", "u", Decimal(1), Decimal(2), Q1.end)
        with acting(CAB):
            plan.app.assess_benefits(release.id, Outcome.APPROVED, "ok")
        with acting(RELEASE_MANAGER):
            plan.app.allocate_budget(release.id, Money(Decimal(10), "EUR"))
            plan.app.schedule_release(release.id, window)
            plan.app.plan_ci_version(release.id, "pay-api", "2.0")
            plan.app.start_release(release.id)
            plan.app.mark_release_deployed(release.id)

        async def deployed() -> bool:
            return bool(cmdbs.app.ci("pay-api").ci_version == "2.0")

        await eventually_async(deployed, what="the CMDB applied the deployed version")
        last = cmdbs.app.differences("pay-api")[-1]
        assert (last.event, last.change_id, last.release_id) == (
            "VersionSet",
            change.id,
            release.id,
        )
        assert cmdbs.app.ci("pay-db").ci_version == "14"
        known = cmdbs.app.known_change(change.id)
        writes = [w.what for w in cmdbs.app.writes_under([known])[change.id]]
        assert writes == ["ConfigurationItem.Updated", "ConfigurationItem.VersionSet"]
