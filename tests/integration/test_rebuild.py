"""`changeledger audit rebuild`: a service's state replayed from its events agrees with
its snapshots, until a snapshot is corrupted on purpose (SQLite and PostgreSQL)."""

from __future__ import annotations

from typer.testing import CliRunner

from changeledger.cli.main import app as cli
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Priority
from changeledger.runtime.domain import acting
from changeledger.runtime.rebuild import rebuild
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.stores import cli_env, opened
from tests.support.tamper import RawStore


def test_rebuild_finds_a_snapshot_that_no_longer_follows_from_the_events(
    store_settings: Settings,
) -> None:
    settings = store_settings.model_copy(update={"snapshot_interval": 2})
    with opened(PlanningApplication, "planning", settings) as app, acting(RELEASE_MANAGER):
        release = app.plan_release("Spring", "rita", Priority.HIGH, Q1)
        app.put_release_on_hold(release.id, "funds")
        app.resume_release(release.id)
        clean = rebuild(app)
    assert clean.differences == []
    assert clean.snapshots_checked == 1
    assert clean.views == {"portfolio": 1}
    runner = CliRunner()
    assert (
        runner.invoke(
            cli, ["audit", "rebuild", "--service", "planning"], env=cli_env(settings)
        ).exit_code
        == 0
    )

    assert RawStore(settings, "planning").corrupt_snapshots(release.id, b"Spring", b"Hacked") == 1
    result = runner.invoke(
        cli, ["audit", "rebuild", "--service", "planning"], env=cli_env(settings)
    )
    assert result.exit_code == 1
    assert "name is 'Hacked' from its snapshot, 'Spring' from its events" in result.output

    # Also when the snapshot interval has changed since, so the snapshot lies off it.
    wider = settings.model_copy(update={"snapshot_interval": 5})
    with opened(PlanningApplication, "planning", wider) as app:
        assert any("'Hacked' from its snapshot" in d for d in rebuild(app).differences)
