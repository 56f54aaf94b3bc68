"""`changeledger run` waiting for the services: a service that exits is a failure to
start, unless the user stopped everything meanwhile (Ctrl-C reaches the services too).
Stopping them, each gets a SIGTERM, which never cuts a shutdown short."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from changeledger.cli.main import StartupFailed, _stop_services, _wait_ready
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


# Like uvicorn: a signal starts a shutdown that takes a while, and a SIGINT after an
# earlier signal exits at once (status 2), skipping the rest of the shutdown.
SERVICE = """
import signal, sys, time
told = []
def on_signal(signum, frame):
    if told and signum == signal.SIGINT:
        sys.exit(2)
    told.append(signum)
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)
print("ready", flush=True)
while not told:
    time.sleep(0.01)
print("stopping", flush=True)
time.sleep(1.0)
sys.exit(0)
"""


@pytest.fixture
def service() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", SERVICE], stdout=subprocess.PIPE)
    assert process.stdout is not None
    try:
        assert process.stdout.readline() == b"ready\n"
        yield process
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_after_ctrl_c_a_service_is_left_to_finish_its_shutdown(
    service: subprocess.Popen[bytes],
) -> None:
    service.send_signal(signal.SIGINT)  # as the terminal does, to the whole group
    assert service.stdout is not None
    assert service.stdout.readline() == b"stopping\n"
    _stop_services({"planning": service})
    assert service.returncode == 0


def test_a_service_not_yet_told_is_told_to_stop(service: subprocess.Popen[bytes]) -> None:
    _stop_services({"planning": service})
    assert service.returncode == 0


def test_a_service_that_does_not_stop_is_killed(service: subprocess.Popen[bytes]) -> None:
    service.send_signal(signal.SIGSTOP)  # it cannot answer
    try:
        _stop_services({"planning": service}, timeout=0.5)
    finally:
        service.send_signal(signal.SIGCONT)
    assert service.returncode == -signal.SIGKILL
