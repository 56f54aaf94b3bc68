"""The audit trail of a running service: it seals its own log on its clock, and
`changeledger audit verify` finds the store intact, or names what was tampered with."""

from __future__ import annotations

from typer.testing import CliRunner

from changeledger.cli.main import app as cli
from changeledger.planning.domain import Priority
from changeledger.planning.service import definition as planning
from changeledger.runtime.audit import witness_file
from changeledger.runtime.domain import acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.services import eventually_async, running
from tests.support.stores import cli_env
from tests.support.tamper import RawStore


async def test_a_running_service_seals_its_log_and_verify_checks_it(settings: Settings) -> None:
    quick = settings.model_copy(update={"seal_interval_seconds": 0.2})
    async with running(planning, quick) as plan:
        with acting(RELEASE_MANAGER):
            release = plan.app.plan_release("Sealed", "rita", Priority.HIGH, Q1)

        async def sealed() -> bool:
            return witness_file(quick, "planning").exists()

        await eventually_async(sealed, what="the service sealed its log")

    env = cli_env(quick)
    intact = CliRunner().invoke(cli, ["audit", "verify", "--service", "planning"], env=env)
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output

    RawStore(quick, "planning").alter(release.id, 1, b"Sealed", b"Forged")
    broken = CliRunner().invoke(cli, ["audit", "verify", "--service", "planning"], env=env)
    assert broken.exit_code == 1
    assert "content was altered" in broken.output
