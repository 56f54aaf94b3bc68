"""`changeledger audit rebuild`: a service's state replayed from its events agrees with
its snapshots and with a running service's read models, until one is corrupted on
purpose (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import MapperDeserialisationError
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from changeledger.cli.main import app as cli
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Priority
from changeledger.planning.service import definition as planning
from changeledger.runtime import rebuild as rebuilding
from changeledger.runtime import workers
from changeledger.runtime.auth import Authenticator
from changeledger.runtime.domain import acting
from changeledger.runtime.rawlog import Share
from changeledger.runtime.rebuild import live_fingerprints, rebuild
from changeledger.runtime.service import create_service
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.services import isolated_settings
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


def test_an_event_that_cannot_be_read_stops_the_rebuild_in_any_process(
    store_settings: Settings,
) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app, acting(RELEASE_MANAGER):
        release = app.plan_release("Spring", "rita", Priority.HIGH, Q1)
        app.put_release_on_hold(release.id, "funds")
    RawStore(store_settings, "planning").alter(release.id, 2, b'"reason":', b'"reason"')
    with opened(PlanningApplication, "planning", store_settings) as app:
        for workers in (1, 2):
            with pytest.raises(MapperDeserialisationError):
                rebuild(app, workers=workers, parallel_from=0)


def test_rebuild_reads_an_encrypted_store_and_its_snapshots(store_settings: Settings) -> None:
    key = AESCipher.create_key(32)
    settings = store_settings.model_copy(
        update={"cipher_key": SecretStr(key), "snapshot_interval": 2}
    )
    with opened(PlanningApplication, "planning", settings) as app, acting(RELEASE_MANAGER):
        release = app.plan_release("Spring", "rita", Priority.HIGH, Q1)
        app.put_release_on_hold(release.id, "funds")
        app.resume_release(release.id)
        alone = rebuild(app)
        shared = rebuild(app, workers=2, parallel_from=0)
    assert (alone.events, alone.snapshots_checked, alone.differences) == (3, 1, [])
    assert (shared.events, shared.snapshots_checked, shared.differences) == (3, 1, [])


def test_rebuild_against_a_running_service_compares_its_read_models(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = create_service(planning, store_settings)
    auditor = {
        "Authorization": "Bearer " + Authenticator(store_settings).mint("audrey", ("auditor",))
    }
    runner = CliRunner()
    with TestClient(api, base_url="http://planning") as client:
        # The command line reaches the running service through this client.
        # (Without its timeout, which Starlette's TestClient deprecates: nothing waits here.)
        monkeypatch.setattr(
            httpx, "get", lambda url, timeout=None, **kwargs: client.get(url, **kwargs)
        )
        app = api.state.application
        with acting(RELEASE_MANAGER):
            release = app.plan_release("Spring", "rita", Priority.HIGH, Q1)
            app.put_release_on_hold(release.id, "funds")
        live = client.get("/audit/read-models", headers=auditor).json()
        assert live["portfolio"]["aggregates"] == 1
        with acting(RELEASE_MANAGER):  # saved after the live view was read: not compared
            app.plan_release("Summer", "rita", Priority.LOW, Q1)
        agreed = rebuild(app, live=live)
        assert (agreed.views_compared, agreed.differences) == (1, [])
        assert client.get("/audit/read-models").status_code == 401

        against = ["audit", "rebuild", "--service", "planning", "--against", "http://planning"]
        env = cli_env(store_settings) | {"CHANGELEDGER_TOKEN": auditor["Authorization"][7:]}
        result = runner.invoke(cli, against, env=env)
        assert result.exit_code == 0, result.output
        assert "compared with http://planning" in result.output

        # The running service's view drifts from its events (a bug, or memory corrupted).
        def drift(view: Any) -> None:
            view.aggregates[release.id].name = "Drifted"

        app.portfolio.query(drift)
        result = runner.invoke(cli, against, env=env)
    assert result.exit_code == 1
    assert "read model portfolio" in result.output
    assert "holds 2 aggregates" in result.output

    without_service = runner.invoke(cli, against[:2] + against[4:], env=env)
    assert without_service.exit_code == 2
    assert "--service" in without_service.output


def test_rebuild_in_worker_processes_gives_the_same_answer(store_settings: Settings) -> None:
    """Each process folds its share of the aggregates; differences come in log order."""
    settings = store_settings.model_copy(update={"snapshot_interval": 2})
    with opened(PlanningApplication, "planning", settings) as app, acting(RELEASE_MANAGER):
        releases = [app.plan_release(f"R{n}", "rita", Priority.HIGH, Q1) for n in range(12)]
        for release in releases:
            app.put_release_on_hold(release.id, "funds")
            app.resume_release(release.id)
    raw = RawStore(settings, "planning")
    for release in (releases[7], releases[2]):
        assert raw.corrupt_snapshots(release.id, release.name.encode(), b"Hacked") == 1

    with opened(PlanningApplication, "planning", settings) as app:
        alone = rebuild(app)
        done: list[int] = []
        shared = rebuild(app, done.append, workers=3, parallel_from=0)
        live = live_fingerprints(app)
        with acting(RELEASE_MANAGER):  # after the live read model's position: not compared
            app.plan_release("Later", "rita", Priority.LOW, Q1)
        alone_against = rebuild(app, live=live)
        shared_against = rebuild(app, live=live, workers=2, parallel_from=0)

        def drift(view: Any) -> None:
            view.aggregates[releases[5].id].name = "Drifted"

        app.portfolio.query(drift)
        drifted = rebuild(app, live=live_fingerprints(app), workers=2, parallel_from=0)

    def answer(report: Any) -> tuple[Any, ...]:
        return (
            report.events,
            report.aggregates,
            report.snapshots_checked,
            report.views,
            report.views_compared,
            report.differences,
        )

    assert (alone.events, alone.snapshots_checked, alone.views) == (36, 12, {"portfolio": 12})
    assert [d.split(":")[0] for d in alone.differences] == [
        f"Release {releases[2].id}",
        f"Release {releases[7].id}",
    ]
    assert answer(shared) == answer(alone)
    assert done[-1] == 36
    assert answer(shared_against) == answer(alone_against)
    assert (alone_against.events, alone_against.views_compared) == (37, 1)
    assert alone_against.differences == alone.differences
    assert "read model portfolio" in drifted.differences[0]
    assert drifted.differences[1:] == alone.differences


def _fails_once_the_other_share_runs(app: Any, share: Share, until: Any, progress: Any) -> Any:
    """Share 0 fails once share 1 has begun; share 1 counts for a minute, and leaves a
    mark if nothing stopped it."""
    if share.number == 0:
        while workers._done.value == 0:
            time.sleep(0.01)
        raise RuntimeError("share 0 cannot be read")
    for _ in range(6000):
        progress(1)
        time.sleep(0.01)
    Path(os.environ["CHANGELEDGER_TEST_MARK"]).touch()
    return None


def test_a_failing_worker_stops_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure is raised at once: the other worker stops at its next count (SQLite's
    workers are forked, so they fold with the patched function)."""
    settings = isolated_settings(tmp_path, None, None)
    mark = tmp_path / "share 1 was never stopped"
    monkeypatch.setenv("CHANGELEDGER_TEST_MARK", str(mark))
    monkeypatch.setattr(rebuilding, "fold", _fails_once_the_other_share_runs)
    with opened(PlanningApplication, "planning", settings) as app, acting(RELEASE_MANAGER):
        app.plan_release("Spring", "rita", Priority.HIGH, Q1)
        with pytest.raises(RuntimeError, match="share 0 cannot be read"):
            rebuild(app, workers=2, parallel_from=0)
    assert not mark.exists()
