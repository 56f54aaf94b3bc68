"""`changeledger audit what-if`: hypothetical commands applied to a fork of the store as
it was at a time; the results are shown, and the real store is left byte-identical."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from changeledger.cli.main import app as cli
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import ChangeCategory, ChangeType, Level, Priority
from changeledger.runtime.domain import acting
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import sqlite_path
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.stores import cli_env, opened
from tests.support.tamper import RawStore

RITA = {"sub": "rita", "roles": ["release-manager"]}
CARL = {"sub": "carl", "roles": ["change-authority"]}


def test_hypothetical_commands_on_a_fork_leave_the_real_store_untouched(
    store_settings: Settings, tmp_path: Path
) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app, acting(RELEASE_MANAGER):
        release = app.plan_release("Spring", "rita", Priority.HIGH, Q1)
        change = app.raise_change(
            ChangeType.NORMAL,
            ChangeCategory.TECHNICAL,
            "Upgrade",
            "",
            ["web"],
            None,
            Level.LOW,
            Level.LOW,
            "undo",
            "why",
        )
        time.sleep(0.02)
        fork_at = datetime.now(UTC)
        time.sleep(0.02)
        app.cancel_release(release.id, "after the fork: not in it")
    commands = [
        {
            "command": "put_release_on_hold",
            "args": {"release_id": str(release.id), "reason": "slip"},
            "actor": RITA,
        },
        {
            "command": "reject_change",
            "args": {"change_id": str(change.id), "reason": "no"},
            "actor": CARL,
        },
        {"command": "save", "args": {}},
        {"command": "put_release_on_hold", "args": {"release_id": "not-an-id", "reason": "x"}},
    ]
    script = tmp_path / "commands.jsonl"
    script.write_text("\n".join(json.dumps(c) for c in commands) + "\nnot json\n")
    raw = RawStore(store_settings, "planning")
    before = raw.checksum()
    file_before = (
        hashlib.sha256(sqlite_path("planning", store_settings).read_bytes()).hexdigest()
        if store_settings.store == "sqlite"
        else None
    )
    env = cli_env(store_settings)
    args = ["audit", "what-if", "--service", "planning", "--until", fork_at.isoformat()]
    result = CliRunner().invoke(cli, [*args, "--then", str(script), "--json"], env=env)
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.output)
    assert [(o["command"], o["status"]) for o in outcomes] == [
        ("put_release_on_hold", "applied"),  # the release was not yet cancelled then
        ("reject_change", "refused"),
        ("save", "invalid"),
        ("put_release_on_hold", "invalid"),
        ("?", "invalid"),
    ]
    [held] = outcomes[0]["changed"]
    assert {c["field"]: c["after"] for c in held["changes"]}["state"] == "OnHold"
    assert held["actor"] == "rita"
    assert outcomes[1]["rule"]
    assert outcomes[1]["conflict"]

    assert raw.checksum() == before
    if file_before is not None:
        after = hashlib.sha256(sqlite_path("planning", store_settings).read_bytes()).hexdigest()
        assert after == file_before
