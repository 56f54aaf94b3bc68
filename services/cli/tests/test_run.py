"""`changeledger run` waiting for the services: a service that exits is a failure to
start, unless the user stopped everything meanwhile (Ctrl-C reaches the services too)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from changeledger.cli.main import StartupFailed, _wait_ready
from changeledger.runtime.settings import Settings


@pytest.fixture
def exited() -> dict[str, subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return {"communication": process}


def test_a_service_that_exits_while_starting_failed_to_start(
    exited: dict[str, subprocess.Popen[bytes]],
) -> None:
    with pytest.raises(StartupFailed, match="communication failed to start"):
        _wait_ready(Settings(), exited, stopping=lambda: False)


def test_a_service_that_exits_after_ctrl_c_is_no_failure(
    exited: dict[str, subprocess.Popen[bytes]],
) -> None:
    assert _wait_ready(Settings(), exited, stopping=lambda: True) is False
